resource "proxmox_virtual_environment_vm" "prox-monitoring" {
    name = "prox-monitoring"
    node_name = "pve01"

    cpu {
        cores = 2
    }

    memory {
        dedicated = 4096
        floating  = 4096
    }

    network_device {
        bridge = "vmbr0"
    }

    initialization {
        datastore_id = "local-zfs"
      ip_config {
        ipv4 {
          address = "dhcp"
        }
      }
    }

    disk {
        datastore_id      = ""
        path_in_datastore = "/dev/disk/by-id/ata-ST4000VN006-3CW104_ZW604DQ6"
        interface         = "scsi1"
        file_format       = "raw"
    }
}