memory = 16384
