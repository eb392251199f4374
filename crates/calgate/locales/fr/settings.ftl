# calgate: settings words (fr)
