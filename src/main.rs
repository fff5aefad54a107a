fn main() -> std::process::ExitCode {
    netpol::cli::main()
}
