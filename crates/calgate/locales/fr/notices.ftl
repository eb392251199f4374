# calgate: notices and confirmations (fr)
