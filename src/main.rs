fn main() -> std::process::ExitCode {
    series::cli::main()
}
