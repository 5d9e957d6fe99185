import OsirisCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `read(2)`, retried on EINTR; 0 at the end of the input.
func readDescriptor(_ descriptor: Int32, into pointer: UnsafeMutableRawPointer, count: Int, name: String?) throws(DataError) -> Int {
    while true {
        let result = read(descriptor, pointer, count)
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw DataError(.io, "cannot read: \(systemMessage(code))", path: name)
    }
}

/// `pread(2)` of up to `count` bytes at `offset`, retrying EINTR; 0 at the end of the file.
package func readDescriptor(_ descriptor: Int32, into pointer: UnsafeMutableRawPointer, count: Int, at offset: Int64, name: String?) throws(DataError) -> Int {
    while true {
        let result = pread(descriptor, pointer, count, off_t(offset))
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw DataError(.io, "cannot read: \(systemMessage(code))", path: name)
    }
}

/// Reads exactly `count` bytes unless the input ends first; returns how many were read.
func readFully(_ descriptor: Int32, into pointer: UnsafeMutableRawPointer, count: Int, name: String?) throws(DataError) -> Int {
    var total = 0
    while total < count {
        let result = try readDescriptor(descriptor, into: pointer + total, count: count - total, name: name)
        if result == 0 { break }
        total += result
    }
    return total
}

/// `write(2)` of all `count` bytes, retrying short writes and EINTR; a broken pipe or any other
/// failure is an I/O error with the system's message.
package func writeDescriptor(_ descriptor: Int32, _ pointer: UnsafeRawPointer, count: Int, name: String?) throws(DataError) {
    var offset = 0
    while offset < count {
        let result = write(descriptor, pointer + offset, count - offset)
        if result < 0 {
            let code = errno
            if code == EINTR { continue }
            throw DataError(.io, "cannot write: \(systemMessage(code))", path: name)
        }
        offset += result
    }
}

/// Opens `path` for reading, with `notFound` for a missing file and `io` for other failures.
func openForReading(_ path: String) throws(DataError) -> Int32 {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    if descriptor < 0 {
        let code = errno
        throw DataError(code == ENOENT ? .notFound : .io, "cannot open: \(systemMessage(code))", path: path)
    }
    var info = stat()
    if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
        close(descriptor)
        throw DataError(.io, "cannot open: is a directory", path: path)
    }
    return descriptor
}

/// Whether the descriptor is a regular file, which can be read twice (a pipe or terminal cannot).
func isRegularFile(_ descriptor: Int32) -> Bool {
    var info = stat()
    return fstat(descriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
}

/// Closes a descriptor this module opened.
func closeDescriptor(_ descriptor: Int32) {
    _ = close(descriptor)
}

/// Creates (or truncates) `path` for writing, readable by its owner only.
func openForWriting(_ path: String) throws(DataError) -> Int32 {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    if descriptor < 0 {
        let code = errno
        throw DataError(.io, "cannot create: \(systemMessage(code))", path: path)
    }
    return descriptor
}

/// An output buffer over a descriptor: formatters append bytes, and every MiB or so it is written out.
final class OutputBuffer {
    /// Written out once it holds this many bytes.
    static let flushThreshold = 1 << 20

    let descriptor: Int32
    let bytes = Buffer<UInt8>(capacity: OutputBuffer.flushThreshold + 64 * 1024)
    /// Bytes handed to the descriptor so far.
    private(set) var bytesWritten = 0

    init(descriptor: Int32) { self.descriptor = descriptor }

    /// Writes the buffer out when it is full enough.
    @inline(__always)
    func flushIfFull() throws(DataError) {
        if bytes.count >= Self.flushThreshold { try flush() }
    }

    /// Writes everything buffered.
    func flush() throws(DataError) {
        guard bytes.count > 0 else { return }
        try writeDescriptor(descriptor, bytes.base, count: bytes.count, name: nil)
        bytesWritten += bytes.count
        bytes.count = 0
    }
}

/// Whether `name` spells UTF-8 (`utf-8`, `utf8`, any case).
func isUTF8(_ name: String) -> Bool {
    let lower = name.lowercased()
    return lower == "utf-8" || lower == "utf8"
}

/// The error for an encoding other than UTF-8.
func unsupportedEncoding(_ name: String, reading: Bool) -> DataError {
    let lower = name.lowercased()
    let iconvName = lower == "latin-1" ? "latin1" : lower
    let example = reading
        ? "convert the file to UTF-8 (for example with iconv -f \(iconvName) -t utf-8)"
        : "write UTF-8 and convert the file afterwards (for example with iconv -f utf-8 -t \(iconvName))"
    return DataError(.unsupported, "encoding '\(name)' is not supported yet; \(example)")
}

/// Writes all of `bytes` (see `writeDescriptor`).
func writeBytes(_ descriptor: Int32, _ bytes: [UInt8], name: String?) throws(DataError) {
    let result: Result<Void, DataError> = bytes.withUnsafeBytes { buffer in
        guard let base = buffer.baseAddress else { return .success(()) }
        do throws(DataError) { try writeDescriptor(descriptor, base, count: buffer.count, name: name) } catch { return .failure(error) }
        return .success(())
    }
    try result.get()
}

/// Fills `bytes` from the descriptor unless the input ends first; returns how many were read.
func readBytes(_ descriptor: Int32, into bytes: inout [UInt8], name: String?) throws(DataError) -> Int {
    let result: Result<Int, DataError> = bytes.withUnsafeMutableBytes { buffer in
        guard let base = buffer.baseAddress else { return .success(0) }
        do throws(DataError) { return .success(try readFully(descriptor, into: base, count: buffer.count, name: name)) } catch { return .failure(error) }
    }
    return try result.get()
}
