#[cfg(target_os = "linux")]
fn main() {
    std::process::exit(netpol_prober::cli_main(std::env::args_os()));
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("netpol-prober runs on Linux only (in prober pods and network namespaces)");
    std::process::exit(3);
}
