# calgate: notices and confirmations (es)
