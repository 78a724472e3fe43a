# vm 102 with its memory from a variable that has no default (Telmate layout, see ../SOURCES.md):
# labwatch cannot know the value terraform would be given, so memory is reported as unknown.
variable "machine_memory" {
  type = number
}

resource "proxmox_vm_qemu" "machine_test" {
  name        = "machine-test"
  target_node = "node1"
  vmid        = 102
  memory      = var.machine_memory

  cpu {
    cores = 2
  }
}
