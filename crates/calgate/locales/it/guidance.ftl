# calgate: guidance words (it)
