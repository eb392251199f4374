# calgate: settings words (en)
