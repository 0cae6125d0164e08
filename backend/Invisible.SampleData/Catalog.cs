namespace Invisible.SampleData;

/// <summary>The world the generator draws from: company name parts, legal forms by country and what each trade sells.</summary>
internal static class Catalog
{
    public static readonly string[] NamePrefixes =
    [
        "Summit", "Vertex", "Contoso", "Pioneer", "Oakmont", "Bluewater", "Atlas", "Beacon", "Northwind", "Fabrikam",
        "Granite", "Harbor", "Ironwood", "Juniper", "Keystone", "Lakeside", "Meridian", "Nordic", "Orion", "Pinnacle",
        "Quarry", "Redwood", "Sterling", "Tidewater", "Unity", "Valley", "Westbrook", "Yellowstone", "Zenith", "Alder",
        "Birchfield", "Cedar Ridge", "Driftwood", "Evergreen", "Falcon", "Glacier", "Highland", "Ivy Lane", "Jade River", "Kingsley",
        "Lighthouse", "Maple Leaf", "Newport", "Olympus", "Prairie", "Quantum", "Riverside", "Silverline", "Trident", "Upland",
        "Vanguard", "Willow", "Crescent", "Ember", "Fjord", "Horizon", "Lumen", "Mosaic", "Nimbus", "Polaris",
    ];

    public static readonly Trade[] Trades =
    [
        new("Industrial Supply", false, false,
        [
            ("Hex bolt M8 x 40 zinc, box of 100", 17.80m), ("Ball bearing 6204-2RS", 4.10m), ("Work light LED 50 W", 64.00m),
            ("Safety gloves nitrile size L, pack of 50", 12.50m), ("Pallet wrap film 500 mm", 21.00m), ("Hydraulic hose 1/2 in x 10 ft", 48.00m),
            ("Cable ties 300 mm black, bag of 100", 5.60m), ("Industrial degreaser 5 L", 35.40m), ("Safety glasses clear", 6.90m),
            ("Ear defenders SNR 30", 18.20m), ("Spray paint grey 400 ml", 7.40m), ("Ratchet strap 5 m 2 t", 11.30m),
        ]),
        new("Chemicals", true, false,
        [
            ("Citric acid anhydrous, kg", 2.70m), ("Isopropyl alcohol 99%, litre", 6.40m), ("Hydrogen peroxide 35%, litre", 4.90m),
            ("Sodium hydroxide pellets, kg", 3.30m), ("Distilled water, litre", 0.42m), ("Acetone technical grade, litre", 3.80m),
            ("Glycerine USP, kg", 5.60m), ("Ethanol denatured, litre", 2.75m), ("Sodium chloride food grade, kg", 0.95m),
            ("Acetic acid 80%, litre", 3.10m),
        ]),
        new("Office Products", false, false,
        [
            ("Lever arch file 75 mm", 3.18m), ("Toner cartridge black HP 26A", 82.97m), ("Copy paper A4 80 gsm, case of 5 reams", 29.99m),
            ("Ballpoint pen blue, box of 50", 9.80m), ("Sticky notes 76 x 76 mm, pack of 12", 8.40m), ("Desk organiser mesh", 14.60m),
            ("Whiteboard markers, set of 4", 5.20m), ("Stapler full strip", 11.90m), ("Envelopes C4 white, box of 250", 24.50m),
        ]),
        new("Hardware", false, false,
        [
            ("Steel shelving unit 5 tier", 85.09m), ("Drill bit set HSS 19 pieces", 23.29m), ("Cordless drill 18 V kit", 149.01m),
            ("Extension lead 4 way 5 m", 14.25m), ("Claw hammer 16 oz", 12.40m), ("Tape measure 8 m", 9.60m),
            ("Padlock brass 40 mm", 8.75m), ("Wood screws 4 x 40, box of 200", 6.30m), ("Spirit level 600 mm", 15.80m),
        ]),
        new("Electrical", false, false,
        [
            ("RCD 40 A 30 mA", 61.00m), ("Copper cable 2.5 mm2, 100 m roll", 110.00m), ("Copper cable 4 mm2, 100 m roll", 165.00m),
            ("LED panel 600 x 600 40 W", 41.50m), ("Wago connector 221-413, box of 50", 19.20m), ("Junction box IP65", 6.65m),
            ("Conduit PVC 20 mm x 3 m", 3.13m), ("Circuit breaker B16", 7.90m), ("Cable gland M20", 0.85m),
        ]),
        new("Facility Services", false, true,
        [
            ("Office cleaning, weekly visit", 327.99m), ("HVAC maintenance visit", 550.00m), ("Fire extinguisher inspection", 12.40m),
            ("Pest control quarterly service", 158.00m), ("Window cleaning, external", 385.00m), ("Washroom hygiene unit service", 9.43m),
            ("Grounds maintenance, monthly", 420.00m),
        ]),
        new("Logistics", false, true,
        [
            ("Pallet transport zone 1", 48.00m), ("Pallet transport zone 2", 62.00m), ("Courier same day", 35.00m),
            ("Warehouse storage per pallet week", 4.20m), ("Container drayage", 410.00m), ("Pick and pack per order", 2.15m),
        ]),
        new("Consulting", false, true,
        [
            ("Consulting hour senior", 165.00m), ("Consulting hour junior", 95.00m), ("Workshop day on site", 1450.00m),
            ("Monthly support retainer", 2200.00m), ("Travel expenses flat", 120.00m),
        ]),
    ];

    public static readonly (string Country, string Currency, string[] LegalForms, decimal TaxRate)[] Countries =
    [
        ("US", "USD", ["Inc", "LLC", "Corp.", "Corporation", "Co"], 0.08m),
        ("US", "USD", ["Inc", "Limited", "Corporation"], 0m),
        ("GB", "GBP", ["Ltd", "Limited", "PLC"], 0.20m),
        ("DE", "EUR", ["GmbH", "AG"], 0.19m),
        ("NL", "EUR", ["B.V."], 0.21m),
        ("FR", "EUR", ["SARL", "S.A."], 0.20m),
        ("FI", "EUR", ["Oy"], 0.24m),
        ("SE", "SEK", ["AB"], 0.25m),
    ];
}

/// <param name="FractionalQuantities">Sold by weight or volume (quantities with one decimal).</param>
/// <param name="IsService">Services are matched 2-way: no goods receipt is expected.</param>
internal sealed record Trade(string Name, bool FractionalQuantities, bool IsService, (string Description, decimal Price)[] Items);
