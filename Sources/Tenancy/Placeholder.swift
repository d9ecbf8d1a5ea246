/// The Tenancy module: its domain arrives with a later issue; the target exists now so the import direction is fixed.
public enum TenancyModule {
    /// The module's name, for diagnostics.
    public static let name = "Tenancy"
}
