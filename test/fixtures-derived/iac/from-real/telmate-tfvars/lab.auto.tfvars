memory = 8192
