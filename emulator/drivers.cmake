# (placeholder: written with the drivers part)
