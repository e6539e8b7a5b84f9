// The basic accessibility checks Copse's pages must pass, run in the page by WebDriver.
// Returns a list of problems, each one line naming what is wrong and where.
const problems = [];
const shown = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
const where = (e) => e.outerHTML.replace(/\s+/g, " ").slice(0, 100);

if (!document.documentElement.lang) problems.push("the page has no lang");
if (!document.title.trim()) problems.push("the page has no title");

// Every field has a label.
for (const f of document.querySelectorAll("input, select, textarea")) {
  if (["hidden", "submit", "button", "reset", "image"].includes(f.type)) continue;
  const byFor = f.id && document.querySelector(`label[for="${CSS.escape(f.id)}"]`);
  const named = byFor || f.closest("label") || f.getAttribute("aria-label") || f.getAttribute("aria-labelledby");
  if (!named) problems.push(`field without a label: ${where(f)}`);
}

// One h1, and headings go down one level at a time.
const headings = [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")];
const h1 = headings.filter((h) => h.tagName === "H1").length;
if (h1 !== 1) problems.push(`${h1} h1 headings`);
let level = 0;
for (const h of headings) {
  const l = Number(h.tagName[1]);
  if (l > level + 1) problems.push(`${h.tagName} "${h.textContent.trim().slice(0, 40)}" follows h${level}`);
  level = l;
}

// Images say what they show; buttons and links say what they do.
for (const i of document.querySelectorAll("img")) {
  if (!i.hasAttribute("alt")) problems.push(`image without alt: ${where(i)}`);
}
for (const e of document.querySelectorAll("a[href], button, summary")) {
  if (!shown(e)) continue;
  const name = (e.textContent || "").trim() || e.getAttribute("aria-label") || e.getAttribute("title")
    || [...e.querySelectorAll("img[alt]")].map((i) => i.alt).join("");
  if (!name) problems.push(`link or button without a name: ${where(e)}`);
}

// Colour contrast, WCAG AA: 4.5:1 for text, 3:1 for large text.
const rgba = (s) => {
  const m = s.match(/rgba?\(([^)]+)\)/);
  if (!m) return null;
  const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
  return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
};
const over = (top, under) => ({
  r: top.r * top.a + under.r * (1 - top.a),
  g: top.g * top.a + under.g * (1 - top.a),
  b: top.b * top.a + under.b * (1 - top.a),
  a: 1,
});
const background = (e) => {
  const layers = [];
  for (let n = e; n; n = n.parentElement) {
    const c = rgba(getComputedStyle(n).backgroundColor);
    if (c && c.a > 0) {
      layers.push(c);
      if (c.a >= 1) break;
    }
  }
  return layers.reverse().reduce((under, top) => over(top, under), { r: 255, g: 255, b: 255, a: 1 });
};
const luminance = (c) => {
  const f = (v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
};
for (const e of document.querySelectorAll("body *")) {
  const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!own || !shown(e)) continue;
  const style = getComputedStyle(e);
  const bg = background(e);
  const fg = over(rgba(style.color), bg);
  const [l1, l2] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
  const ratio = (l1 + 0.05) / (l2 + 0.05);
  const size = parseFloat(style.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
  const needed = large ? 3 : 4.5;
  if (ratio < needed) {
    problems.push(`contrast ${ratio.toFixed(2)} < ${needed} for "${e.textContent.trim().slice(0, 40)}" (${style.color} on rgb(${bg.r.toFixed(0)}, ${bg.g.toFixed(0)}, ${bg.b.toFixed(0)}))`);
  }
}

// Nothing wider than the window (390 px on a phone).
if (document.documentElement.scrollWidth > window.innerWidth + 1) {
  const wide = [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 || e.scrollWidth > e.clientWidth + 1)
    .slice(0, 3)
    .map(where);
  problems.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${window.innerWidth} px window: ${wide.join(" | ")}`);
}
return problems;
