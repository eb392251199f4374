# calgate: settings words (it)
