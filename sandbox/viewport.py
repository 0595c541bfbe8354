"""Reading back what a viewport drew: for the browser tests and python -m bench."""

# The centre of the first viewport's canvas, read back: how many pixels are not black.
LIT_PIXELS_JS = """() => {
    const canvas = document.querySelector('.cornerstone-canvas');
    if (!canvas || !canvas.width) return -1;
    const ctx = canvas.getContext('2d');
    const w = Math.floor(canvas.width / 2), h = Math.floor(canvas.height / 2);
    const data = ctx.getImageData(Math.floor(w / 2), Math.floor(h / 2), w, h).data;
    let lit = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] + data[i + 1] + data[i + 2] > 30) lit++;
    return lit;
}"""

# What the first viewport shows: its image id (cornerstone3D, which OHIF puts on window) and, over the centre
# of its canvas, how many pixels are lit and how many are coloured (channels apart by more than 30).
VIEWPORT_JS = """() => {
    const enabled = window.cornerstone && window.cornerstone.getEnabledElements()[0];
    const canvas = document.querySelector('.cornerstone-canvas');
    if (!enabled || !canvas || !canvas.width) return null;
    const ctx = canvas.getContext('2d');
    const w = Math.floor(canvas.width / 2), h = Math.floor(canvas.height / 2);
    const data = ctx.getImageData(Math.floor(w / 2), Math.floor(h / 2), w, h).data;
    let lit = 0, coloured = 0;
    for (let i = 0; i < data.length; i += 4) {
        const r = data[i], g = data[i + 1], b = data[i + 2];
        if (r + g + b > 30) lit++;
        if (Math.max(r, g, b) - Math.min(r, g, b) > 30) coloured++;
    }
    return {imageId: enabled.viewport.getCurrentImageId(), lit, coloured};
}"""
