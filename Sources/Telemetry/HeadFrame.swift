/// The samples of one node (or of no node) at one time, as the head stores them: one row a batch rather than
/// a row a sample. A sample per row put 7,000 inserts a second at random places of a large index at 10,000
/// agents, and the pages each commit rewrote held the store's single writer for seconds; a frame is one row
/// appended beside its node's previous one.
///
/// The text is `suffix=value` pairs joined by `,`, where the suffix is the series id's last 16 hex digits (every
/// series of a frame shares the id's group prefix) and the value is Swift's shortest round-trip form.
struct HeadFrame {
    var entries: [(suffix: Substring, value: Double)]

    static func encode(_ samples: [(suffix: Substring, value: Double)]) -> String {
        samples.map { "\($0.suffix)=\($0.value)" }.joined(separator: ",")
    }

    static func decode(_ text: String) -> [(suffix: Substring, value: Double)] {
        text.split(separator: ",").compactMap { entry in
            guard let equals = entry.firstIndex(of: "="), let value = Double(entry[entry.index(after: equals)...]) else { return nil }
            return (entry[..<equals], value)
        }
    }
}
