import OsirisCore
import OsirisDrivers

/// Why discovery stopped, with the exit status of DESIGN.md §1: 66 a missing SQLite file or folder,
/// 69 an unreachable server, 77 rejected credentials, 78 configuration. Messages never hold a secret.
public struct DiscoveryError: OsirisError, Equatable {
    /// What went wrong, already masked.
    public var message: String
    /// The status the tool ends with.
    public var exitStatus: ExitStatus

    /// Creates an error.
    public init(_ message: String, exitStatus: ExitStatus) {
        self.message = message
        self.exitStatus = exitStatus
    }

    /// The error of a failed discoverer, its message passed through `masker`.
    init(_ error: StepError, masker: SecretMasker) {
        self.init(masker.mask(error.message), exitStatus: error.exitStatus)
    }

    public var description: String { message }
}
