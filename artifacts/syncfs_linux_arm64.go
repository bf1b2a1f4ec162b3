package artifacts

// sysSyncfs is syncfs(2)'s number on linux/arm64.
const sysSyncfs = 267
