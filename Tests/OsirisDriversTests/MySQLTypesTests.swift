@testable import OsirisDrivers
import Testing

@Suite struct MySQLTypesTests {
    func parse(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { MySQLTypes.parseInt(UnsafeRawBufferPointer($0)) }
    }

    @Test func integersParseExactlyAndOverflowIsNil() {
        #expect(parse("0") == 0)
        #expect(parse("-42") == -42)
        #expect(parse("9223372036854775807") == Int64.max)
        #expect(parse("-9223372036854775808") == Int64.min)
        #expect(parse("9223372036854775808") == nil)
        #expect(parse("-9223372036854775809") == nil)
        #expect(parse("18446744073709551616") == nil)
        #expect(parse("") == nil)
        #expect(parse("-") == nil)
        #expect(parse("1.5") == nil)
    }
}
