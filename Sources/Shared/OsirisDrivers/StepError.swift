import OsirisCore

/// Why a step failed, classified so the runner knows whether to retry and which exit status the run
/// ends with (DESIGN.md §7.4).
public struct StepError: Error, Sendable, CustomStringConvertible {
    /// The error's class.
    public enum Code: String, Sendable {
        /// A server could not be reached (exit 69); retryable.
        case connection = "CONNECTION"
        /// Credentials were rejected (exit 77).
        case authentication = "AUTH"
        /// Configuration: an unset variable, an unknown alias, a bad config value (exit 78).
        case configuration = "CONFIG"
        /// A timeout, lock wait, serialization failure or deadlock (exit 75 once retries ran out); retryable.
        case temporary = "TEMPORARY"
        /// Any other failure while running: bad SQL, a constraint, a missing input file (exit 1).
        case run = "RUN"
        /// An output could not be written: a full disk, a file-size limit, a write error (exit 74).
        case io = "IO"
        /// The step's input failed (exit 1).
        case upstreamFailed = "UPSTREAM_FAILED"
        /// The run was interrupted (SIGINT/SIGTERM).
        case cancelled = "CANCELLED"
        /// A bug: a driver broke the contract of its protocol, such as a batch that differs from its
        /// stream's schema (exit 70).
        case internalError = "INTERNAL"
    }

    /// The error's class.
    public var code: Code
    /// What went wrong, for people; never contains a secret (it passes through the masker anyway).
    public var message: String
    /// Whether running the step again may succeed.
    public var retryable: Bool

    /// Creates a step error; `retryable` defaults by class.
    public init(_ code: Code, _ message: String, retryable: Bool? = nil) {
        self.code = code
        self.message = message
        self.retryable = retryable ?? (code == .connection || code == .temporary)
    }

    /// The exit status a run ends with when this is its first failed step's error.
    public var exitStatus: ExitStatus {
        switch code {
        case .connection: .unavailable
        case .authentication: .permissionDenied
        case .configuration: .configuration
        case .temporary: .temporaryFailure
        case .run, .upstreamFailed: .failure
        case .io: .ioError
        case .cancelled: .interrupted
        case .internalError: .software
        }
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// A step error for a data error (malformed input, I/O), with the file and line where known.
    public static func from(_ error: any Error) -> StepError {
        if let stepError = error as? StepError { return stepError }
        if let osirisError = error as? any OsirisError { return StepError(.run, osirisError.description) }
        return StepError(.run, "\(error)")
    }
}
