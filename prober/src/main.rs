fn main() {
    std::process::exit(netpol_prober::cli_main(std::env::args_os()));
}
