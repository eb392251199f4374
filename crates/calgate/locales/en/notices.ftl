# calgate: notices and confirmations (en)
