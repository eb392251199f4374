# calgate: settings words (es)
