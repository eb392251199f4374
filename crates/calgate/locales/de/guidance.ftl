# calgate: guidance words (de)
