variable "second_node" {}

module "truenas" {
  source      = "./vm"
  name        = "truenas"
  target_node = "pve1"
  memory      = 8192
}

module "second" {
  source      = "./vm"
  name        = "second"
  target_node = var.second_node
}
