/// The exit statuses every Osiris tool uses (DESIGN.md §1), built on sysexits.
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// Success; warnings alone do not fail unless `--strict`.
    case success = 0
    /// The tool ran and the answer is no: lint errors, compile rejected, a step failed.
    case failure = 1
    /// Bad flags or arguments.
    case usage = 64
    /// Machine input that does not decode: a manifest, snapshot or JSON line.
    case dataError = 65
    /// An input file is missing or unreadable.
    case noInput = 66
    /// A database, API or model endpoint is unreachable.
    case unavailable = 69
    /// An internal error: a bug.
    case software = 70
    /// An output cannot be created.
    case cannotCreate = 73
    /// Any other input/output error.
    case ioError = 74
    /// A temporary failure worth retrying, after retries ran out.
    case temporaryFailure = 75
    /// Credentials were rejected.
    case permissionDenied = 77
    /// Configuration error: unknown connection alias, unset secret variable, bad connections file.
    case configuration = 78
    /// Interrupted by SIGINT.
    case interrupted = 130
    /// Terminated by SIGTERM.
    case terminated = 143
}

/// An error that knows which exit status it maps to and how to describe itself to a user.
public protocol OsirisError: Error, CustomStringConvertible, Sendable {
    /// The exit status a tool should end with when this error stops it.
    var exitStatus: ExitStatus { get }
}
