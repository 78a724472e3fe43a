resource "proxmox_vm_qemu" "dev" {
  vmid = 201
  name        = "DevInstance"
  target_nodes = ["pve-1", "pve-2"]
  start_at_node_boot = true
  clone = "wk-lnx-rhel1"
  full_clone = false
  scsihw = "virtio-scsi-single"
  cores = 4
  memory = 8192
  agent = 1
  
  disk {
    slot    = "scsi0"
    size    = "90G"
    storage = "local-lvm"
    format  = "raw"
  }
  disk {
    slot    = "ide2"
    type    = "cloudinit"
    storage = "local-lvm"
  }
  network {
    id = 0
    model      = "virtio"
    bridge     = "vmbr1"
    mtu        = 9000
    firewall   = false
  }
  
}