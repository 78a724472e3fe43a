# The go-proxmox recorded cluster's guests 100 and 102 as code (see ../SOURCES.md): vm 100 in the
# bpg/proxmox layout of its docs/resources/virtual_environment_vm.md example, vm 102 in Telmate's
# docs/resources/vm_qemu.md 3.x layout. The values are what the lab runs (the derived and the real
# qemu config the tests answer for them).
resource "proxmox_virtual_environment_vm" "server1" {
  name      = "server1"
  node_name = "node2"
  vm_id     = 100
  on_boot   = true

  cpu {
    cores = 1
  }

  memory {
    dedicated = 1024
  }

  disk {
    datastore_id = "local-zfs"
    interface    = "scsi0"
    size         = 32
  }

  network_device {
    bridge = "vmbr0"
    model  = "virtio"
  }
}

resource "proxmox_vm_qemu" "machine_test" {
  name        = "machine-test"
  target_node = "node1"
  vmid        = 102
  memory      = 8192
  tags        = "admin"

  cpu {
    cores   = 2
    sockets = 1
  }

  disks {
    scsi {
      scsi0 {
        disk {
          storage = "local-lvm"
          size    = "64G"
        }
      }
    }
  }

  network {
    id     = 0
    model  = "virtio"
    bridge = "vmbr0"
  }
}
