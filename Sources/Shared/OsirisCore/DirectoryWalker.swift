#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Lists files below a directory, the way ripgrep does: sorted by name, hidden entries (names
/// starting with '.') skipped, symbolic links to directories not followed.
public enum DirectoryWalker {
    /// Whether `path` is a directory (following links).
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether something exists at `path`.
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// The regular files below `directory` whose names satisfy `include`, sorted, as paths that
    /// start with `directory`. Unreadable subdirectories are reported through `errors`.
    public static func files(
        under directory: String, errors: inout [InputError], include: (String) -> Bool
    ) -> [String] {
        var result: [String] = []
        var pending = [directory]
        while let current = pending.popLast() {
            guard let handle = opendir(current) else {
                errors.append(InputError(path: current, reason: systemMessage(errno)))
                continue
            }
            var names: [(name: String, isDirectory: Bool)] = []
            while let entry = readdir(handle) {
                let name = entryName(entry)
                if name.hasPrefix(".") { continue }
                let path = current.hasSuffix("/") ? current + name : current + "/" + name
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                let type = info.st_mode & S_IFMT
                if type == S_IFDIR {
                    names.append((name, true))
                } else if type == S_IFREG || (type == S_IFLNK && !isDirectory(path)) {
                    names.append((name, false))
                }
            }
            closedir(handle)
            names.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
            var subdirectories: [String] = []
            for entry in names {
                let path = current.hasSuffix("/") ? current + entry.name : current + "/" + entry.name
                if entry.isDirectory {
                    subdirectories.append(path)
                } else if include(entry.name) {
                    result.append(path)
                }
            }
            // Depth first in name order: push in reverse so the first subdirectory is visited next.
            pending.append(contentsOf: subdirectories.reversed())
        }
        return result
    }
}

/// The name of a `readdir` entry.
func entryName(_ entry: UnsafeMutablePointer<dirent>) -> String {
    withUnsafeBytes(of: entry.pointee.d_name) { raw in String(cString: raw.bindMemory(to: CChar.self).baseAddress!) }
}
