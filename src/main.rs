#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    series::cli::main()
}
