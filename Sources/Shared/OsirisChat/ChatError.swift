import OsirisCore
import OsirisDiscovery

/// Why `osiris-chat` stopped without OML, each with the exit status of DESIGN.md §1.
public enum ChatError: OsirisError, Equatable {
    /// No model is configured for a provider that needs one (exit 78).
    case modelNotConfigured(String)
    /// The endpoint rejected the credentials, HTTP 401 or 403 (exit 77).
    case credentialsRejected(url: String, status: Int)
    /// The endpoint could not be reached (exit 69).
    case unreachable(url: String, reason: String)
    /// 429, 5xx or timeouts until the retries ran out (exit 75).
    case retriesExhausted(url: String, attempts: Int, last: String)
    /// The endpoint answered with something that is not a reply of its wire format (exit 69).
    case badReply(url: String, reason: String)
    /// The endpoint refused the request for another reason, such as HTTP 400 or 404 (exit 1).
    case requestRejected(url: String, status: Int, message: String)
    /// The builtin planner does not understand the request: a model is needed (exit 1).
    case modelNeeded(String)
    /// The model asked a question and there is no terminal to answer it (exit 1).
    case unansweredQuestion(String)
    /// The `--preview` run did not complete (exit 1).
    case previewFailed(String)
    /// A session file that does not decode (exit 65).
    case badSession(path: String, reason: String)
    /// Discovering `--connection` failed, with osiris-discover's status: 66 a missing SQLite file or
    /// folder, 69 unreachable, 77 credentials rejected, 78 configuration such as an unknown alias.
    case discovery(DiscoveryError)

    /// Whether the server refused the form of the request (HTTP 400, 422, or a 500 that reports a
    /// validation error), so that the same request in another form, such as without a response
    /// schema, may pass.
    package var refusesRequestForm: Bool {
        guard case .requestRejected(_, let status, _) = self else { return false }
        return status == 400 || status == 422 || status == 500
    }

    public var exitStatus: ExitStatus {
        switch self {
        case .modelNotConfigured: .configuration
        case .credentialsRejected: .permissionDenied
        case .unreachable, .badReply: .unavailable
        case .retriesExhausted: .temporaryFailure
        case .requestRejected, .modelNeeded, .unansweredQuestion, .previewFailed: .failure
        case .badSession: .dataError
        case .discovery(let error): error.exitStatus
        }
    }

    public var description: String {
        switch self {
        case .modelNotConfigured(let message): message
        case .credentialsRejected(let url, let status):
            "'\(url)' rejected the credentials (HTTP \(status)); check the API key"
        case .unreachable(let url, let reason): "cannot reach '\(url)': \(reason)"
        case .retriesExhausted(let url, let attempts, let last):
            "'\(url)' still failing after \(attempts) attempts: \(last)"
        case .badReply(let url, let reason): "'\(url)' sent a reply that does not decode: \(reason)"
        case .requestRejected(let url, let status, let message):
            "'\(url)' refused the request (HTTP \(status))\(message.isEmpty ? "" : ": \(message)")"
        case .modelNeeded(let message): message
        case .unansweredQuestion(let question): "the model asks: \(question)"
        case .previewFailed(let reason): "the preview run failed: \(reason)"
        case .badSession(let path, let reason): "cannot resume session '\(path)': \(reason)"
        case .discovery(let error): error.message
        }
    }
}
