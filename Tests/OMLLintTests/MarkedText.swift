import OsirisCore

/// Source text with position markers `1️⃣` ... `9️⃣` (as swift-format's rule tests use), so tests state
/// where a finding must be without counting columns.
struct MarkedText {
    /// The text with the markers removed.
    let text: String
    /// Each marker's position in `text`.
    let markers: [String: SourcePosition]

    init(_ marked: String) {
        var output = String.UnicodeScalarView()
        var markers: [String: SourcePosition] = [:]
        var line = 1
        var column = 1
        let scalars = Array(marked.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if index + 2 < scalars.count, scalars[index + 1] == "\u{FE0F}", scalars[index + 2] == "\u{20E3}",
               scalar >= "0", scalar <= "9" {
                markers[String(scalar) + "\u{FE0F}\u{20E3}"] = SourcePosition(line: line, column: column)
                index += 3
                continue
            }
            output.append(scalar)
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
            index += 1
        }
        text = String(output)
        self.markers = markers
    }
}
