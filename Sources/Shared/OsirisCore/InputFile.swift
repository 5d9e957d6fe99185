#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An input that could not be read, naming the path and the system's reason.
public struct InputError: OsirisError, Equatable {
    /// The path as the user gave it.
    public var path: String
    /// The system's reason, such as "No such file or directory".
    public var reason: String

    /// Creates an input error.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var exitStatus: ExitStatus { .noInput }
    public var description: String { "cannot read '\(path)': \(reason)" }
}

/// Reading whole input files and standard input as bytes.
public enum InputFile {
    /// The largest input read; bigger files are refused rather than exhausting memory.
    public static let maximumSize = 256 * 1024 * 1024

    /// Reads the file at `path`, or standard input when `path` is `-`.
    public static func read(_ path: String) throws(InputError) -> [UInt8] {
        if path == "-" { return try readDescriptor(0, path: path) }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 { throw InputError(path: path, reason: systemMessage(errno)) }
        defer { close(descriptor) }
        var info = stat()
        if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw InputError(path: path, reason: "is a directory")
        }
        return try readDescriptor(descriptor, path: path)
    }

    private static func readDescriptor(_ descriptor: Int32, path: String) throws(InputError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw InputError(path: path, reason: systemMessage(errno))
            }
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<count])
            if result.count > maximumSize {
                throw InputError(path: path, reason: "larger than \(maximumSize / 1024 / 1024) MiB")
            }
        }
        return result
    }

    /// Whether standard input is a terminal (a tool that needs input then fails fast).
    public static var standardInputIsTerminal: Bool { isatty(0) == 1 }
}

/// The system's text for an `errno` value.
public func systemMessage(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: text)
}
