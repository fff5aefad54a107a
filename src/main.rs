// Loading a big snapshot is mostly small allocations on both cores (YAML events, JSON values):
// mimalloc does them about a third faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    netpol::cli::main()
}
