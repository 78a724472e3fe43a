name        = "truenas"
target_node = "pve1"
memory      = 4096
