# (placeholder: written with the terminal part)
