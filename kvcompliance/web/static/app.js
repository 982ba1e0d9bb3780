/* kvcompliance in de browser: a little JavaScript, no build step, no external files.
 * Uploads send each file as the raw body of one request; the server chooses its name. */
"use strict";

const GELIJKTIJDIG = 3; // requests at the same time
const BUNDEL_BESTANDEN = 50; // small files go many to a request (see uploads.receive_bundle)
const BUNDEL_BYTES = 8 * 1024 * 1024;

async function vraag(adres, opties = {}) {
  let antwoord;
  try {
    antwoord = await fetch(adres, { credentials: "same-origin", ...opties });
  } catch (fout) {
    return { ok: false, status: 0, data: { fout: "kvcompliance is niet bereikbaar. Draait het programma nog?" } };
  }
  let data = {};
  try { data = await antwoord.json(); } catch (fout) { data = {}; }
  return { ok: antwoord.ok, status: antwoord.status, data };
}

function formulier(velden) {
  return {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(velden).toString(),
  };
}

function stuurBestand(adres, bestand) {
  const kop = { "Content-Type": "application/octet-stream" };
  if (bestand.lastModified) kop["X-Gewijzigd"] = String(bestand.lastModified);
  return vraag(adres + "?naam=" + encodeURIComponent(bestand.name), { method: "POST", headers: kop, body: bestand });
}

function stuurBundel(adres, groep) {
  // per file a line of JSON, then its bytes; a Blob of parts copies nothing
  const delen = [];
  for (const bestand of groep) {
    delen.push(JSON.stringify({ naam: bestand.name, grootte: bestand.size, gewijzigd: bestand.lastModified || 0 }) + "\n", bestand);
  }
  return vraag(adres, { method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: new Blob(delen) });
}

function bundels(bestanden) {
  const groepen = [], los = [];
  let groep = [], bytes = 0;
  for (const bestand of bestanden) {
    if (bestand.name.toLowerCase().endsWith(".zip") || bestand.size > BUNDEL_BYTES) { los.push([bestand]); continue; }
    if (groep.length >= BUNDEL_BESTANDEN || bytes + bestand.size > BUNDEL_BYTES) { groepen.push(groep); groep = []; bytes = 0; }
    groep.push(bestand);
    bytes += bestand.size;
  }
  if (groep.length) groepen.push(groep);
  return groepen.concat(los);
}

function toon(element, tekst, soort) {
  if (!element) return;
  element.textContent = tekst;
  element.hidden = !tekst;
  if (soort) element.className = "melding " + soort;
}

function aantal(n, een, meer) {
  return n.toLocaleString("nl-NL") + " " + (n === 1 ? een : meer);
}

/* ------------------------------------------------------------------ inputs (start and audit page) */
async function stuurInvoer(controle, rij) {
  const soort = rij.dataset.soort;
  const invoer = rij.querySelector("input[type=file]");
  if (invoer && invoer.files.length) {
    return stuurBestand(`/controles/${controle}/invoer/${soort}/bestand`, invoer.files[0]);
  }
  return null;
}

function initStart() {
  const form = document.getElementById("nieuw");
  if (!form) return;
  form.querySelectorAll("input[type=file]").forEach((invoer) => {
    invoer.addEventListener("change", () => {
      const rij = invoer.closest(".invoer-rij");
      rij.querySelector(".gekozen-bestand").textContent = invoer.files.length ? "upload: " + invoer.files[0].name : "";
    });
  });
  form.addEventListener("submit", async (gebeurtenis) => {
    gebeurtenis.preventDefault();
    const melding = document.getElementById("melding-nieuw");
    const knop = form.querySelector("button[type=submit]");
    knop.disabled = true;
    toon(melding, "Bezig met aanmaken…", "");
    const velden = { jaar: form.querySelector("#jaar").value };
    form.querySelectorAll(".invoer-rij[data-soort]").forEach((rij) => {
      velden[rij.dataset.soort] = rij.querySelector("select").value;
    });
    const nieuw = await vraag(form.dataset.actie, formulier(velden));
    if (!nieuw.ok) {
      toon(melding, nieuw.data.fout || "Aanmaken is mislukt.", "fout");
      knop.disabled = false;
      return;
    }
    for (const rij of form.querySelectorAll(".invoer-rij[data-soort]")) {
      const antwoord = await stuurInvoer(nieuw.data.id, rij);
      if (antwoord && !antwoord.ok) {
        // a file refused before it was kept (wrong kind, too big): the audit page says so beside the input
        sessionStorage.setItem(`invoerfout:${nieuw.data.id}:${rij.dataset.soort}`, antwoord.data.fout || "Uploaden is mislukt.");
      }
    }
    window.location.assign(nieuw.data.adres);
  });
}

function initInvoer() {
  const kaart = document.getElementById("invoer");
  if (!kaart) return;
  const controle = kaart.dataset.controle;
  kaart.querySelectorAll(".invoer-rij[data-soort]").forEach((rij) => {
    const soort = rij.dataset.soort;
    const status = rij.querySelector(".gekozen-bestand");
    const geweigerd = sessionStorage.getItem(`invoerfout:${controle}:${soort}`);
    if (geweigerd) { // from the start page (initStart), said once
      sessionStorage.removeItem(`invoerfout:${controle}:${soort}`);
      const fout = document.createElement("p");
      fout.className = "fout";
      fout.textContent = geweigerd;
      rij.appendChild(fout);
    }
    rij.querySelector("select").addEventListener("change", async (gebeurtenis) => {
      if (gebeurtenis.target.value === "huidig") return;
      status.textContent = "Bewaren…";
      const antwoord = await vraag(`/controles/${controle}/invoer/${soort}`, formulier({ keuze: gebeurtenis.target.value }));
      if (antwoord.status === 400 || antwoord.status === 0) { status.textContent = antwoord.data.fout; return; }
      window.location.reload();
    });
    rij.querySelector("input[type=file]").addEventListener("change", async () => {
      status.textContent = "Uploaden…";
      const antwoord = await stuurInvoer(controle, rij);
      if (antwoord && !antwoord.ok && antwoord.status !== 200 && antwoord.status !== 413 && antwoord.status !== 400) {
        status.textContent = antwoord.data.fout || "Uploaden is mislukt.";
        return;
      }
      if (antwoord && (antwoord.status === 413 || antwoord.status === 400)) { status.textContent = antwoord.data.fout; return; }
      window.location.reload();
    });
  });
}

/* ------------------------------------------------------------------ adding returns */
async function leesMap(map) {
  // every file below a dropped folder (readEntries gives at most 100 at a time)
  const lezer = map.createReader();
  const gevonden = [];
  for (;;) {
    const stuk = await new Promise((klaar, mis) => lezer.readEntries(klaar, mis));
    if (!stuk.length) break;
    for (const item of stuk) {
      if (item.isFile) gevonden.push(await new Promise((klaar, mis) => item.file(klaar, mis)));
      else if (item.isDirectory) gevonden.push(...(await leesMap(item)));
    }
  }
  return gevonden;
}

async function gesleepteBestanden(overdracht) {
  const items = Array.from(overdracht.items || []).filter((item) => item.kind === "file");
  const ingangen = items.map((item) => (item.webkitGetAsEntry ? item.webkitGetAsEntry() : null));
  if (!ingangen.length || ingangen.some((ingang) => ingang === null)) return Array.from(overdracht.files || []);
  const bestanden = [];
  for (const ingang of ingangen) {
    if (ingang.isDirectory) bestanden.push(...(await leesMap(ingang)));
    else bestanden.push(await new Promise((klaar, mis) => ingang.file(klaar, mis)));
  }
  return bestanden;
}

function initSleepvak() {
  const vak = document.getElementById("sleepvak");
  if (!vak) return;
  const controle = vak.dataset.controle;
  const maxBestand = Number(vak.dataset.maxBestand);
  const maxZip = Number(vak.dataset.maxZip);
  const geweigerd = document.getElementById("geweigerd");
  const lijst = document.getElementById("bestandenlijst");
  const teller = document.getElementById("aantal-bestanden");
  const voortgang = document.getElementById("toevoegen");
  const tekst = document.getElementById("toevoegen-tekst");
  const balk = document.getElementById("toevoegen-balk");
  let inControle = Number(vak.dataset.aantal);

  function bestandRegel(naam) {
    // as the page lists them: the name, and a button that takes the file out again
    const regel = document.createElement("li");
    const tekst = document.createElement("span");
    tekst.textContent = naam;
    const knop = document.createElement("button");
    knop.type = "button";
    knop.className = "verwijder";
    knop.dataset.naam = naam;
    knop.title = `${naam} uit deze controle halen`;
    knop.setAttribute("aria-label", knop.title);
    knop.textContent = "✕";
    regel.append(tekst, knop);
    return regel;
  }

  lijst.addEventListener("click", async (gebeurtenis) => {
    const knop = gebeurtenis.target.closest("button.verwijder");
    if (!knop) return;
    knop.disabled = true;
    geweigerd.replaceChildren();
    const antwoord = await vraag(`/controles/${controle}/opgaven/verwijderen`, formulier({ naam: knop.dataset.naam }));
    if (!antwoord.ok && antwoord.status !== 404) {
      weiger(antwoord.data.fout || "Verwijderen is niet gelukt.");
      knop.disabled = false;
      return;
    }
    knop.closest("li").remove(); // 404: it was gone already
    inControle = antwoord.data.aantal ?? Math.max(0, inControle - 1);
    teller.textContent = aantal(inControle, "bestand", "bestanden");
    voortgang.hidden = false;
    balk.hidden = true;
    tekst.textContent = antwoord.ok ? `${knop.dataset.naam} is uit deze controle gehaald.` : antwoord.data.fout;
  });

  function weiger(reden, soort) {
    const regel = document.createElement("li");
    regel.textContent = reden;
    if (soort) regel.className = soort;
    geweigerd.appendChild(regel);
  }

  async function voegToe(bestanden) {
    if (!bestanden.length) return;
    geweigerd.replaceChildren();
    voortgang.hidden = false;
    balk.hidden = false;
    const start = document.getElementById("start");
    if (start) start.disabled = true;
    let gedaan = 0, toegevoegd = 0, alAanwezig = 0, nietToegevoegd = 0;
    const totaal = bestanden.length;
    balk.max = totaal;
    const bijwerken = () => {
      balk.value = gedaan;
      tekst.textContent = `Toevoegen: ${gedaan.toLocaleString("nl-NL")} van ${aantal(totaal, "bestand", "bestanden")}`;
    };
    bijwerken();
    const passend = [];
    for (const bestand of bestanden) {
      const isZip = bestand.name.toLowerCase().endsWith(".zip");
      if (bestand.size > (isZip ? maxZip : maxBestand)) {
        weiger((isZip ? vak.dataset.zipTeGroot : vak.dataset.teGroot).replace("{naam}", bestand.name));
        nietToegevoegd += 1;
        gedaan += 1;
      } else {
        passend.push(bestand);
      }
    }
    bijwerken();
    const wachtrij = bundels(passend);
    async function werker() {
      while (wachtrij.length) {
        const groep = wachtrij.shift();
        const los = groep.length === 1 && (groep[0].name.toLowerCase().endsWith(".zip") || groep[0].size > BUNDEL_BYTES);
        const antwoord = los
          ? await stuurBestand(`/controles/${controle}/opgaven`, groep[0])
          : await stuurBundel(`/controles/${controle}/opgaven/bundel`, groep);
        const data = antwoord.data || {};
        const namen = document.createDocumentFragment();
        for (const naam of data.toegevoegd || []) {
          namen.appendChild(bestandRegel(naam));
          toegevoegd += 1;
          inControle += 1;
        }
        lijst.appendChild(namen);
        alAanwezig += (data.al_aanwezig || []).length;
        for (const item of data.geweigerd || []) { weiger(item.reden); nietToegevoegd += 1; }
        if (data.fout) { weiger(data.fout); nietToegevoegd += groep.length; }
        gedaan += groep.length;
        bijwerken();
      }
    }
    await Promise.all(Array.from({ length: GELIJKTIJDIG }, werker));
    teller.textContent = aantal(inControle, "bestand", "bestanden");
    let samenvatting = `${aantal(toegevoegd, "bestand", "bestanden")} toegevoegd`;
    if (alAanwezig) samenvatting += `, ${aantal(alAanwezig, "bestand stond", "bestanden stonden")} er al`;
    if (nietToegevoegd) samenvatting += `, ${aantal(nietToegevoegd, "bestand", "bestanden")} niet (zie hieronder)`;
    tekst.textContent = samenvatting + ".";
    balk.hidden = true;
    if (start) start.disabled = false;
    // a message from starting before these arrived ("Voeg eerst opgaven toe") no longer holds
    if (toegevoegd) toon(document.getElementById("melding-start"), "");
  }

  // the drop zone is a keyboard stop too: Enter or Space there opens the file chooser
  vak.addEventListener("keydown", (gebeurtenis) => {
    if (gebeurtenis.target !== vak || (gebeurtenis.key !== "Enter" && gebeurtenis.key !== " ")) return;
    gebeurtenis.preventDefault();
    document.getElementById("kies-bestanden").click();
  });
  vak.addEventListener("dragover", (gebeurtenis) => { gebeurtenis.preventDefault(); vak.classList.add("erboven"); });
  vak.addEventListener("dragleave", () => vak.classList.remove("erboven"));
  vak.addEventListener("drop", async (gebeurtenis) => {
    gebeurtenis.preventDefault();
    vak.classList.remove("erboven");
    voegToe(await gesleepteBestanden(gebeurtenis.dataTransfer));
  });
  for (const id of ["kies-bestanden", "kies-map"]) {
    const invoer = document.getElementById(id);
    invoer.addEventListener("change", async () => { await voegToe(Array.from(invoer.files)); invoer.value = ""; });
  }
  // a file dropped next to the drop zone must not replace the page
  window.addEventListener("dragover", (gebeurtenis) => gebeurtenis.preventDefault());
  window.addEventListener("drop", (gebeurtenis) => gebeurtenis.preventDefault());
}

/* ------------------------------------------------------------------ running */
function volg(controle, klaar) {
  const fase = document.getElementById("fase");
  const teller = document.getElementById("teller");
  const tijd = document.getElementById("tijd");
  const balk = document.getElementById("balk");
  const melding = document.getElementById("melding-start");
  const vak = document.getElementById("voortgang");
  vak.hidden = false;
  vak.scrollIntoView({ block: "nearest" });
  async function kijk() {
    const antwoord = await vraag(`/controles/${controle}/voortgang`, { headers: { Accept: "application/json" } });
    const stand = antwoord.data;
    if (!antwoord.ok) { toon(melding, stand.fout || "De voortgang is niet te zien.", "fout"); return; }
    fase.textContent = stand.fase || "";
    if (stand.totaal) {
      balk.max = stand.totaal;
      balk.value = stand.gedaan;
      teller.textContent = `${stand.gedaan.toLocaleString("nl-NL")} van ${stand.totaal.toLocaleString("nl-NL")}`;
    } else {
      balk.removeAttribute("value");
      teller.textContent = "";
    }
    tijd.textContent = `(${Math.round(stand.seconden)} s)`;
    if (stand.toestand === "bezig") { setTimeout(kijk, 300); return; }
    if (stand.toestand === "fout" || stand.toestand === "gestopt") {
      if (!stand.totaal) { balk.max = 1; balk.value = 0; } // no bar that seems to go on
      if (stand.toestand === "gestopt") fase.textContent = "Gestopt";
      toon(melding, stand.fout, stand.toestand === "gestopt" ? "let-op" : "fout");
      klaar(false);
      return;
    }
    if (stand.toestand === "klaar") { fase.textContent = "Klaar"; klaar(true, stand); }
    if (stand.toestand === "geen") window.location.reload(); // the server was started again
  }
  kijk();
}

function initStarten() {
  const knop = document.getElementById("start");
  if (!knop) return;
  const controle = knop.dataset.controle;
  const stoppen = document.getElementById("stoppen");
  const naarUitkomst = (gelukt) => {
    if (gelukt) window.location.assign(`/controles/${controle}/resultaten`);
    else knop.disabled = false;
    stoppen.disabled = true;
  };
  stoppen.addEventListener("click", async () => {
    stoppen.disabled = true;
    const antwoord = await vraag(`/controles/${controle}/stoppen`, { method: "POST" });
    if (!antwoord.ok) toon(document.getElementById("melding-start"), antwoord.data.fout || "Stoppen is mislukt.", "fout");
  });
  knop.addEventListener("click", async () => {
    knop.disabled = true;
    toon(document.getElementById("melding-start"), "");
    const antwoord = await vraag(`/controles/${controle}/start`, { method: "POST" });
    if (!antwoord.ok) {
      toon(document.getElementById("melding-start"), antwoord.data.fout || "Starten is mislukt.", "fout");
      knop.disabled = false;
      return;
    }
    stoppen.disabled = false;
    volg(controle, naarUitkomst);
  });
  if (knop.dataset.bezig) { knop.disabled = true; stoppen.disabled = false; volg(controle, naarUitkomst); }
}

function initWachten() {
  const vak = document.getElementById("wachten");
  if (vak) volg(vak.dataset.controle, (gelukt) => { if (gelukt) window.location.reload(); });
}

/* ------------------------------------------------------------------ results */
function initBellijst() {
  const tabel = document.getElementById("bellijst");
  if (!tabel) return;
  const status = document.getElementById("filter-status");
  const sector = document.getElementById("filter-sector");
  const zoek = document.getElementById("filter-zoek");
  const telling = document.getElementById("filter-telling");
  const geen = document.getElementById("geen-rijen");
  const rijen = Array.from(tabel.tBodies[0].rows);
  function filter() {
    const s = status.value, se = sector.value, z = zoek.value.trim().toLocaleLowerCase("nl-NL");
    let getoond = 0;
    for (const rij of rijen) {
      const zichtbaar = (!s || rij.dataset.status === s) && (!se || rij.dataset.sector === se) && (!z || rij.dataset.zoek.includes(z));
      rij.hidden = !zichtbaar;
      if (zichtbaar) getoond += 1;
    }
    telling.textContent = getoond === rijen.length
      ? aantal(rijen.length, "opgave", "opgaven")
      : `${getoond.toLocaleString("nl-NL")} van ${aantal(rijen.length, "opgave", "opgaven")}`;
    geen.hidden = getoond > 0;
  }
  status.addEventListener("change", filter);
  sector.addEventListener("change", filter);
  zoek.addEventListener("input", filter);
  if (status.value || sector.value || zoek.value) filter(); // kept by the browser on "back"
}

function initConcepten() {
  const vak = document.getElementById("concepten");
  const knop = document.getElementById("maak-concepten");
  if (!vak || !knop) return;
  knop.addEventListener("click", async () => {
    knop.disabled = true;
    const melding = document.getElementById("melding-concepten");
    toon(melding, "E-mailconcepten maken…", "bezig");
    const antwoord = await vraag(`/controles/${vak.dataset.controle}/e-mailconcepten`, { method: "POST" });
    knop.disabled = false;
    if (!antwoord.ok) { toon(melding, antwoord.data.fout || "Het maken is mislukt.", "fout"); return; }
    const data = antwoord.data;
    const zin = document.createElement("p");
    zin.append(`${aantal(data.aantal, "concept", "concepten")} gemaakt`);
    if (data.aantal) {
      const link = document.createElement("a");
      link.href = data.adres;
      link.download = "";
      link.textContent = "downloaden";
      zin.append(": ", link);
    }
    zin.append(".");
    const delen = [zin];
    if (data.overgeslagen.length) {
      zin.append(` ${aantal(data.overgeslagen.length, "aanbieder krijgt", "aanbieders krijgen")} geen e-mail:`);
      const lijst = document.createElement("ul");
      for (const item of data.overgeslagen) {
        const regel = document.createElement("li");
        regel.textContent = `${item.wie}: ${item.reden}`;
        lijst.appendChild(regel);
      }
      delen.push(lijst);
    }
    melding.replaceChildren(...delen);
    melding.className = data.overgeslagen.length ? "melding let-op" : "melding goed";
    melding.hidden = false;
  });
}

/* ------------------------------------------------------------------ agreements (results page) */
function initAfspraken() {
  const vak = document.getElementById("afspraken");
  const kies = document.getElementById("afspraken-bestanden");
  const knop = document.getElementById("bewaar-afspraken");
  if (!vak || !kies || !knop) return;
  const adres = `/controles/${vak.dataset.controle}/afspraken`;
  const wachtend = document.getElementById("afspraken-wachtend");
  const melding = document.getElementById("melding-afspraken");
  kies.addEventListener("change", async () => {
    const bestanden = Array.from(kies.files);
    kies.value = "";
    if (!bestanden.length) return;
    knop.disabled = true;
    toon(melding, `${aantal(bestanden.length, "werkboek", "werkboeken")} toevoegen…`, "bezig");
    const fouten = [];
    let namen = null;
    for (const bestand of bestanden) {
      const antwoord = await stuurBestand(adres + "/bestand", bestand);
      if (!antwoord.ok) fouten.push(antwoord.data.fout || `${bestand.name} is niet toegevoegd.`);
      else namen = antwoord.data.wachtend;
    }
    if (namen) wachtend.textContent = namen.length ? `Klaar om te bewaren: ${namen.join(", ")}.` : "";
    knop.disabled = namen ? !namen.length : !wachtend.textContent;  // none added: what waited still waits
    if (fouten.length) toon(melding, fouten.join(" "), "fout");
    else toon(melding, "Klik op Afspraken bewaren om ze in het dossier te zetten.", "goed");
  });
  knop.addEventListener("click", async () => {
    knop.disabled = true;
    toon(melding, "Afspraken lezen en bewaren…", "bezig");
    const antwoord = await vraag(adres, { method: "POST" });
    if (!antwoord.ok) {
      knop.disabled = false;
      toon(melding, antwoord.data.fout || "Het bewaren is mislukt.", "fout");
      return;
    }
    const data = antwoord.data;
    const delen = data.regels.slice(0, 1).map((tekst) => { const p = document.createElement("p"); p.textContent = tekst; return p; });
    const rest = [...data.regels.slice(1), ...data.opmerkingen, ...data.problemen];
    if (rest.length) {
      const lijst = document.createElement("ul");
      for (const tekst of rest) {
        const regel = document.createElement("li");
        regel.textContent = tekst;
        lijst.appendChild(regel);
      }
      delen.push(lijst);
    }
    melding.replaceChildren(...delen);
    melding.className = rest.length ? "melding let-op" : "melding goed";
    melding.hidden = false;
    const namen = data.wachtend || [];  // added while these were stored: they wait for the next time
    wachtend.textContent = namen.length ? `Klaar om te bewaren: ${namen.join(", ")}.` : "";
    knop.disabled = !namen.length;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  initStart();
  initInvoer();
  initSleepvak();
  initStarten();
  initWachten();
  initBellijst();
  initConcepten();
  initAfspraken();
});
