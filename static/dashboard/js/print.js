// The printable history's one control.
document.getElementById("print").addEventListener("click", () => window.print());
