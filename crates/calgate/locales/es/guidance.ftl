# calgate: guidance words (es)
