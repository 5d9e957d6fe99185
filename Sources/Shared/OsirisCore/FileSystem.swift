#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Small file-system operations the tools share.
public enum FileSystem {
    /// Creates `path` and any missing parents (`mkdir -p`).
    public static func createDirectories(_ path: String) throws(OutputFileError) {
        guard !path.isEmpty, !DirectoryWalker.isDirectory(path) else { return }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if !DirectoryWalker.isDirectory(prefix), mkdir(prefix, 0o755) != 0, errno != EEXIST {
                throw OutputFileError(path: prefix, reason: systemMessage(errno))
            }
            prefix += "/"
        }
    }

    /// Removes a file or a directory tree; missing paths are fine.
    public static func remove(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            if let handle = opendir(path) {
                while let entry = readdir(handle) {
                    let name = entryName(entry)
                    if name == "." || name == ".." { continue }
                    remove(path + "/" + name)
                }
                closedir(handle)
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// The folder part of a path ("." for a bare name).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// A new empty folder under `parent` (mkdtemp).
    public static func temporaryDirectory(in parent: String, prefix: String) throws(OutputFileError) -> String {
        var template = Array("\(parent)/\(prefix)XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw OutputFileError(path: parent, reason: systemMessage(errno))
        }
        return String(cString: template)
    }

    /// The SHA-256 fingerprint (`sha256:…`) and size of a file, read in 1 MiB chunks so memory
    /// stays flat whatever the file's size.
    public static func fingerprint(ofFile path: String) throws(InputError) -> (sha256: String, bytes: Int) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw InputError(path: path, reason: systemMessage(errno)) }
        defer { close(descriptor) }
        var hasher = Fingerprint.Hasher()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw InputError(path: path, reason: systemMessage(errno))
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            total += count
        }
        return (hasher.finalize(), total)
    }
}
