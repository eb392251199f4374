# calgate: notices and confirmations (de)
