# calgate: guidance words (fr)
