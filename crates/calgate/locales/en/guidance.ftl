# calgate: guidance words (en)
