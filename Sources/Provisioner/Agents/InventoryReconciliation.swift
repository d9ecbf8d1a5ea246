import NodeContract

/// Compares what an operator declared (and the BMC read) with what the node's agent found.
/// Differences become notes on the node; the declaration stays the quota's truth until an operator changes it.
enum InventoryReconciliation {
    static func notes(declared: [Accelerator], bmcMemoryGiB: Double?, reported: InventoryReport) -> [String] {
        var notes: [String] = []
        func normalized(_ text: String) -> String { text.lowercased().filter { $0.isLetter || $0.isNumber } }
        var matched = Set<Int>()
        for group in declared {
            let indices = reported.accelerators.indices.filter {
                reported.accelerators[$0].vendor == group.vendor && normalized(reported.accelerators[$0].model).contains(normalized(group.model))
            }
            matched.formUnion(indices)
            let count = indices.map { reported.accelerators[$0].count }.reduce(0, +)
            if count != group.count { notes.append("declared \(group.count) \(group.vendor)/\(group.model); the agent reports \(count)") }
        }
        for (index, found) in reported.accelerators.enumerated() where !matched.contains(index) {
            notes.append("the agent reports \(found.count) \(found.vendor) \(found.model) not declared at enrollment")
        }
        if let bmc = bmcMemoryGiB, bmc > 0 {
            let agent = Double(reported.memoryMiB) / 1024
            // The kernel reserves some memory, so the agent sees a little less than the BMC's DIMMs.
            if abs(agent - bmc) / bmc > 0.1 {
                notes.append("the BMC reports \(Int(bmc)) GiB of memory; the agent sees \(Int(agent)) GiB")
            }
        }
        return notes
    }
}
