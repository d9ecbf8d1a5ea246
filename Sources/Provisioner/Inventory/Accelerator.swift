import NodeContract

/// A group of identical accelerators in a node: the same value whether declared at enrollment or
/// reported by the node's agent (the contract's type, so the two compare directly).
public typealias Accelerator = InventoryReport.Accelerator

extension InventoryReport.Accelerator {
    /// The quota resource key of this model, e.g. `accelerators/nvidia/H100`.
    public var quotaResource: String { "accelerators/\(vendor)/\(model)" }
}
