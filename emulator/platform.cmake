# (placeholder: written with the platform part)
