# calgate: settings words (de)
