"""Draws the GS1 DataBar test images in this folder with zint, a barcode
generator independent of rxing (rxing has no DataBar encoder).

    pip install zint-bindings==1.2.2
    python3 tests/data/make_databar.py

The images are committed; run this only to remake them.
"""

import os

import zint

HERE = os.path.dirname(os.path.abspath(__file__))

IMAGES = {
    # name: (symbology, data; zint's bracketed form for GS1 mode)
    # DataBar Omnidirectional carries a GTIN only: zint takes its 14 digits.
    "databar_omni.png": (zint.Symbology.DBAR_OMN, "09506000134352"),
    "databar_expanded_pharma.png": (
        zint.Symbology.DBAR_EXP,
        "[01]90012345678908[17]251231[10]ABC123[21]XYZ987",
    ),
    "databar_expanded_weight.png": (
        zint.Symbology.DBAR_EXP,
        "[01]90012345678908[3103]001750[10]ABC123",
    ),
    # Valid data, but rxing 0.9.3 finds no barcode in it (it reads the same
    # AIs with GTIN 90012345678908): a known limit, see the README.
    "databar_expanded_unread.png": (
        zint.Symbology.DBAR_EXP,
        "[01]09506000134352[17]251231[10]ABC123[21]XYZ987",
    ),
}

for name, (symbology, data) in IMAGES.items():
    symbol = zint.Symbol()
    symbol.symbology = symbology
    if data.startswith("["):
        symbol.input_mode = zint.InputMode.GS1
    symbol.scale = 3.0
    symbol.height = 40
    symbol.show_text = False
    symbol.whitespace_width = 10
    symbol.outfile = os.path.join(HERE, name)
    symbol.encode(data)
    symbol.print()
    print(name, data)
