# calgate: notices and confirmations (it)
