#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An output file that could not be written (exit status 73, cannot create).
public struct OutputFileError: OsirisError, Equatable {
    /// The path that was to be written.
    public var path: String
    /// The system's reason.
    public var reason: String

    /// Creates an output file error.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var exitStatus: ExitStatus { .cannotCreate }
    public var description: String { "cannot write '\(path)': \(reason)" }
}

/// Writes files the way build tools need: all or nothing, and not at all when nothing changed.
public enum AtomicFile {
    /// Whether the file at `path` holds exactly `bytes`.
    public static func hasContents(_ bytes: [UInt8], at path: String) -> Bool {
        guard let existing = try? InputFile.read(path) else { return false }
        return existing == bytes
    }

    /// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so readers
    /// see the old file or the new one, never a part. When the file already holds exactly `bytes`
    /// it is left untouched, mtime included, and the result is false.
    @discardableResult
    public static func write(_ bytes: [UInt8], to path: String) throws(OutputFileError) -> Bool {
        if hasContents(bytes, at: path) { return false }
        let file = try AtomicOutputFile(path: path)
        try file.write(bytes)
        try file.commit()
        return true
    }
}

/// A file written all or nothing: data goes to a temporary file (`.NAME.osiris-XXXXXX`) in the
/// target's folder and is renamed over the target only on `commit`. Released without a commit, the
/// temporary file is removed, so a failed or interrupted write leaves the old file as it was.
public final class AtomicOutputFile {
    /// The target.
    public let path: String
    /// The temporary file being written.
    public let temporaryPath: String
    /// The temporary file's descriptor, for writers that write to it directly.
    public let descriptor: Int32
    private var committed = false

    /// Creates the temporary file next to `path`; the folder must exist.
    public init(path: String) throws(OutputFileError) {
        self.path = path
        let folder = FileSystem.directory(of: path)
        let name = path.split(separator: "/").last.map(String.init) ?? path
        // open(2) with mode 0666 lets the kernel apply the umask, so the file gets the usual
        // permissions without reading the process-wide umask (umask(0) + umask(mask) would race
        // with every other thread creating a file in between). mkstemp would create it 0600.
        var attempts = 0
        while true {
            let candidate = "\(folder)/.\(name).osiris-\(Self.randomSuffix())"
            let descriptor = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if descriptor >= 0 {
                self.descriptor = descriptor
                temporaryPath = candidate
                return
            }
            let code = errno
            attempts += 1
            if code == EINTR || (code == EEXIST && attempts < 100) { continue }
            throw OutputFileError(path: path, reason: systemMessage(code))
        }
    }

    /// Six random letters and digits, as mkstemp would choose.
    private static func randomSuffix() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        var generator = SystemRandomNumberGenerator()
        return String(decoding: (0..<6).map { _ in alphabet.randomElement(using: &generator)! }, as: UTF8.self)
    }

    deinit {
        if !committed {
            close(descriptor)
            unlink(temporaryPath)
        }
    }

    /// Appends `bytes`, retrying short writes and EINTR.
    public func write(_ bytes: [UInt8]) throws(OutputFileError) {
        do {
            try FileDescriptorOutput(descriptor: descriptor).write(bytes)
        } catch {
            let code: Int32
            switch error {
            case .brokenPipe: code = EPIPE
            case .failed(let errno): code = errno
            }
            throw OutputFileError(path: path, reason: systemMessage(code))
        }
    }

    /// Flushes to disk and renames the temporary file over the target.
    public func commit() throws(OutputFileError) {
        if fsync(descriptor) != 0 { throw OutputFileError(path: path, reason: systemMessage(errno)) }
        close(descriptor)
        committed = true
        if rename(temporaryPath, path) != 0 {
            let reason = systemMessage(errno)
            unlink(temporaryPath)
            throw OutputFileError(path: path, reason: reason)
        }
    }
}
