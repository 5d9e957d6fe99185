import CMariaDB
import Glibc
import OsirisData

/// How `mysql.writer` spells values for MariaDB: the tab-separated text of `LOAD DATA LOCAL INFILE`
/// (`FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n'`), and SQL literals for the
/// multi-row `INSERT` used when the server refuses local infile.
///
/// NULL is `\N` (`NULL` in SQL); bool 1/0; int64 and float64 their digits (Swift's shortest form);
/// bytes raw with backslash escapes (`X'..'` in SQL); timestamp with a space between date and time;
/// timestamptz converted to UTC (the session runs with `time_zone = '+00:00'` and MariaDB takes no
/// offset in a value): `2024-05-01T13:45:00.5+02:00` is `2024-05-01 11:45:00.5`; decimal, date, time,
/// json, uuid and text as their text. In the tab-separated form backslash, tab, newline, carriage
/// return and NUL are escaped; in SQL, quotes too.
enum MySQLLoadEncoding {
    /// Appends every row of `batch` as tab-separated lines.
    static func appendTabSeparated(_ batch: RecordBatch, to output: Buffer<UInt8>) {
        let views = batch.columns.map(\.unsafeView)
        let last = views.count - 1
        for row in 0..<batch.count {
            for (index, view) in views.enumerated() {
                if view.isNull(row) {
                    output.reserve(3)
                    output.append(UInt8(ascii: "\\"))
                    output.append(UInt8(ascii: "N"))
                } else {
                    appendValue(view, row, to: output, sql: false)
                }
                output.append(index == last ? 0x0A : 0x09)
            }
        }
    }

    /// Appends row `row` of `batch` as a parenthesised list of SQL literals: `(1, 'a', NULL)`.
    static func appendSQLRow(_ batch: RecordBatch, _ row: Int, to output: Buffer<UInt8>) {
        output.append(UInt8(ascii: "("))
        for (index, column) in batch.columns.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            let view = column.unsafeView
            if view.isNull(row) {
                output.append("NULL")
            } else {
                appendValue(view, row, to: output, sql: true)
            }
        }
        output.append(UInt8(ascii: ")"))
    }

    @inline(__always)
    private static func appendValue(_ view: UnsafeColumnView, _ row: Int, to output: Buffer<UInt8>, sql: Bool) {
        switch view.type {
        case .bool:
            output.append(view.bool(row) ? UInt8(ascii: "1") : UInt8(ascii: "0"))
        case .int64:
            Formatting.appendInt(view.int64(row), to: output)
        case .float64:
            output.append(view.float64(row).description)
        case .bytes:
            if sql {
                appendHexLiteral(view.bytes(row), to: output)
            } else {
                appendEscaped(view.bytes(row), to: output, sql: false)
            }
        case .timestamptz:
            if sql { output.append(UInt8(ascii: "'")) }
            appendUTC(view.bytes(row), to: output, sql: sql)
            if sql { output.append(UInt8(ascii: "'")) }
        case .timestamp:
            if sql { output.append(UInt8(ascii: "'")) }
            let start = output.count
            appendEscaped(view.bytes(row), to: output, sql: sql)
            if output.count - start > 10 && output.base[start + 10] == UInt8(ascii: "T") { output.base[start + 10] = UInt8(ascii: " ") }
            if sql { output.append(UInt8(ascii: "'")) }
        default:
            if sql { output.append(UInt8(ascii: "'")) }
            appendEscaped(view.bytes(row), to: output, sql: sql)
            if sql { output.append(UInt8(ascii: "'")) }
        }
    }

    /// Appends `bytes` with backslash escapes: NUL, tab, newline, carriage return and backslash;
    /// in SQL also both quotes and Ctrl-Z.
    @inline(__always)
    static func appendEscaped(_ bytes: UnsafeRawBufferPointer, to output: Buffer<UInt8>, sql: Bool) {
        output.reserve(bytes.count * 2)
        var pointer = output.base + output.count
        for byte in bytes {
            let escape: UInt8
            switch byte {
            case 0x00: escape = UInt8(ascii: "0")
            case 0x09: escape = sql ? 0 : UInt8(ascii: "t")
            case 0x0A: escape = UInt8(ascii: "n")
            case 0x0D: escape = UInt8(ascii: "r")
            case 0x5C: escape = 0x5C
            case 0x27, 0x22: escape = sql ? byte : 0
            case 0x1A: escape = sql ? UInt8(ascii: "Z") : 0
            default: escape = 0
            }
            if escape == 0 {
                pointer.pointee = byte
                pointer += 1
            } else {
                pointer[0] = 0x5C
                pointer[1] = escape
                pointer += 2
            }
        }
        output.count = pointer - output.base
    }

    private static let hexDigits: StaticString = "0123456789abcdef"

    /// Appends `X'...'`, the bytes in hexadecimal.
    static func appendHexLiteral(_ bytes: UnsafeRawBufferPointer, to output: Buffer<UInt8>) {
        output.reserve(3 + bytes.count * 2)
        var pointer = output.base + output.count
        pointer[0] = UInt8(ascii: "X")
        pointer[1] = UInt8(ascii: "'")
        pointer += 2
        let digits = hexDigits.utf8Start
        for byte in bytes {
            pointer[0] = digits[Int(byte >> 4)]
            pointer[1] = digits[Int(byte & 0xf)]
            pointer += 2
        }
        pointer.pointee = UInt8(ascii: "'")
        output.count = pointer + 1 - output.base
    }

    /// Appends a timestamptz value in UTC without offset (`YYYY-MM-DD HH:MM:SS[.f]`), the offset
    /// (`Z`, `±HH`, `±HHMM`, `±HH:MM`, `±HH:MM:SS`) applied; a value without offset is taken as UTC.
    /// Text of another shape is appended as it is (escaped), for the server to refuse.
    static func appendUTC(_ text: UnsafeRawBufferPointer, to output: Buffer<UInt8>, sql: Bool) {
        guard let utc = utcParts(text) else {
            appendEscaped(text, to: output, sql: sql)
            return
        }
        output.reserve(19)
        let pointer = output.base + output.count
        func put(_ value: Int, _ at: Int, _ width: Int) {
            var value = value
            for index in stride(from: at + width - 1, through: at, by: -1) {
                pointer[index] = UInt8(ascii: "0") &+ UInt8(value % 10)
                value /= 10
            }
        }
        put(utc.year, 0, 4)
        pointer[4] = UInt8(ascii: "-")
        put(utc.month, 5, 2)
        pointer[7] = UInt8(ascii: "-")
        put(utc.day, 8, 2)
        pointer[10] = UInt8(ascii: " ")
        put(utc.seconds / 3600, 11, 2)
        pointer[13] = UInt8(ascii: ":")
        put(utc.seconds / 60 % 60, 14, 2)
        pointer[16] = UInt8(ascii: ":")
        put(utc.seconds % 60, 17, 2)
        output.count += 19
        output.append(UnsafeRawBufferPointer(rebasing: text[19..<utc.fractionEnd]))
    }

    /// The UTC date, seconds of the day and the end of the fraction of a timestamptz text, or nil
    /// when it has another shape or its UTC year is outside 1...9999.
    static func utcParts(_ text: UnsafeRawBufferPointer) -> (year: Int, month: Int, day: Int, seconds: Int, fractionEnd: Int)? {
        let count = text.count
        func number(_ start: Int, _ width: Int) -> Int? {
            guard start + width <= count else { return nil }
            var value = 0
            for index in start..<(start + width) {
                let digit = text[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value * 10 + Int(digit)
            }
            return value
        }
        guard count >= 19, let year = number(0, 4), text[4] == UInt8(ascii: "-"), let month = number(5, 2),
              text[7] == UInt8(ascii: "-"), let day = number(8, 2), text[10] == UInt8(ascii: "T") || text[10] == UInt8(ascii: " "),
              let hour = number(11, 2), text[13] == UInt8(ascii: ":"), let minute = number(14, 2), text[16] == UInt8(ascii: ":"),
              let second = number(17, 2), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        if index < count && text[index] == UInt8(ascii: ".") {
            index += 1
            while index < count && text[index] &- UInt8(ascii: "0") < 10 { index += 1 }
        }
        let fractionEnd = index
        var offset = 0
        if index < count && text[index] == UInt8(ascii: " ") { index += 1 }
        if index == count {
            // No offset: the value is taken as UTC.
        } else if text[index] == UInt8(ascii: "Z") && index + 1 == count {
            // UTC.
        } else if text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-") {
            let sign = text[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let hours = number(index, 2), hours <= 15 else { return nil }
            index += 2
            var minutes = 0
            var seconds = 0
            if index < count {
                if text[index] == UInt8(ascii: ":") { index += 1 }
                guard let value = number(index, 2), value < 60 else { return nil }
                minutes = value
                index += 2
                if index < count {
                    guard text[index] == UInt8(ascii: ":"), let value = number(index + 1, 2), value < 60 else { return nil }
                    seconds = value
                    index += 3
                }
            }
            guard index == count else { return nil }
            offset = sign * (hours * 3600 + minutes * 60 + seconds)
        } else {
            return nil
        }
        if offset == 0 { return (year, month, day, hour * 3600 + minute * 60 + second, fractionEnd) }
        var days = daysFromCivil(year, month, day)
        var seconds = hour * 3600 + minute * 60 + second - offset
        if seconds < 0 {
            seconds += 86_400
            days -= 1
        } else if seconds >= 86_400 {
            seconds -= 86_400
            days += 1
        }
        let date = civil(fromDays: days)
        guard (1...9999).contains(date.year) else { return nil }
        return (date.year, date.month, date.day, seconds, fractionEnd)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let year = month <= 2 ? year - 1 : year
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01.
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// Streams a writer's input to the server during `LOAD DATA LOCAL INFILE`, through libmariadb's
/// local-infile handler: each time the library asks for data, the next batch is pulled from the
/// input and encoded as tab-separated text, so one batch is held at a time and no file is written.
///
/// A failure of the input (or a cancellation) ends the data early and is rethrown by `load`; what
/// the server loaded by then is in a staging table that is thrown away.
final class MySQLInfileLoader {
    private let input: any BatchSource
    private let context: StepContext
    private let buffer = Buffer<UInt8>(capacity: 1 << 20)
    private var offset = 0
    private var ended = false
    /// Why the data ended early.
    private(set) var failure: StepError?
    /// Whether the library asked for the data (the server accepted the statement).
    private(set) var started = false
    /// The rows and bytes read from the input.
    private(set) var rows = 0
    private(set) var bytes = 0

    init(input: any BatchSource, context: StepContext) {
        self.input = input
        self.context = context
    }

    /// Runs `sql`, a `LOAD DATA LOCAL INFILE` statement, with this loader as the source of its data;
    /// throws the input's failure first, then the server's error, then its first warning (LOCAL
    /// turns bad values into warnings, which would lose data silently).
    func load(_ sql: String, on connection: MySQLConnection) throws(StepError) {
        let userdata = Unmanaged.passUnretained(self).toOpaque()
        mysql_set_local_infile_handler(
            connection.handle,
            { state, _, userdata in
                state?.pointee = userdata
                if let userdata { Unmanaged<MySQLInfileLoader>.fromOpaque(userdata).takeUnretainedValue().started = true }
                return 0
            },
            { state, destination, capacity in
                guard let state, let destination else { return -1 }
                return Unmanaged<MySQLInfileLoader>.fromOpaque(state).takeUnretainedValue().fill(destination, Int(capacity))
            },
            { _ in },
            { state, message, capacity in
                guard let state, let message, capacity > 0 else { return 2000 }
                let loader = Unmanaged<MySQLInfileLoader>.fromOpaque(state).takeUnretainedValue()
                let text = Array((loader.failure?.message ?? "the input failed").utf8.prefix(Int(capacity) - 1))
                for (index, byte) in text.enumerated() { message[index] = CChar(bitPattern: byte) }
                message[text.count] = 0
                return 2000
            },
            userdata)
        defer { mysql_set_local_infile_default(connection.handle) }
        do {
            try connection.update(sql)
        } catch {
            if let failure { throw failure }
            throw error
        }
        if let failure { throw failure }
        if let warning = try connection.firstWarning() {
            throw StepError(.run, "MariaDB refused a value while loading: \(warning)")
        }
    }

    /// Copies up to `capacity` bytes of encoded rows into `destination`; 0 at the end, -1 when the
    /// input failed.
    private func fill(_ destination: UnsafeMutablePointer<CChar>, _ capacity: Int) -> Int32 {
        while offset == buffer.count {
            if ended || failure != nil { return failure == nil ? 0 : -1 }
            buffer.count = 0
            offset = 0
            do throws(StepError) {
                try context.cancellation.check()
                guard let batch = try input.next() else {
                    ended = true
                    return 0
                }
                rows += batch.count
                bytes += batch.dataByteCount
                context.progress.read(rows: batch.count, bytes: batch.dataByteCount)
                MySQLLoadEncoding.appendTabSeparated(batch, to: buffer)
            } catch {
                failure = error
                return -1
            }
        }
        let count = min(capacity, buffer.count - offset, Int(Int32.max))
        UnsafeMutableRawPointer(destination).copyMemory(from: buffer.base + offset, byteCount: count)
        offset += count
        return Int32(count)
    }
}
