"""The shipped texts of the privacy and accessibility statements, in nb, nn and en.

Organisers replace them in the admin pages (`live.contest.statements`); every "[FYLL INN:
…]" or "[FILL IN: …]" marks a fact only they can give. The texts describe what this
service collects and keeps: keep them true when that changes. The format is that of
`statements.parse`; lines are wrapped here only to fit the source, and `tidy` joins them.
"""

from __future__ import annotations

DEFAULTS_WRITTEN = "2026-11-30T12:00:00+01:00"  # shown as the date of an unchanged default


_PRIVACY_NB = """\
Denne erklæringen gjelder nettstedet for KS' idékonkurranse: innsending av ideer, sidene for
nettverkskoordinatorer, jury og arrangører, og avstemningen i finalen (stemmeseddelen på
mobilen, storskjermen i salen og programlederens konsoll). Her står hvilke
personopplysninger vi behandler, hvorfor, hvilket rettslig grunnlag vi bygger på, hvor lenge
vi tar vare på dem, og hvilke rettigheter du har.

## Behandlingsansvarlig

KS (Kommunesektorens organisasjon) er behandlingsansvarlig for personopplysningene i
tjenesten.

- Kontakt om personvern: [FYLL INN: e-postadresse for spørsmål om personvern i
  idékonkurransen]
- KS' personvernombud: [FYLL INN: navn og e-postadresse til personvernombudet]

## Hva vi samler inn, og hvorfor

### Når du sender inn en idé

- Navn, e-postadresse og telefonnummer (valgfritt) til kontaktpersonen, og hvilken kommune,
  fylkeskommune eller virksomhet ideen kommer fra, med eventuelle samarbeidspartnere. Vi
  bruker dette til å sende ideen til riktig nettverk, til å kontakte deg om ideen og til å
  fortelle deg hva som skjer med den, også på e-post.
- Ideen selv med eventuelle vedlegg. Skriv ikke personopplysninger om andre i ideteksten
  eller vedleggene; de trengs ikke for å vurdere ideen.
- Når du lagrer eller sender inn, får du en privat lenke til ideen. Alle som har lenken, kan
  se ideen og endre den fram til fristen, så del den bare med dem som skal ha tilgang.
- Endringsloggen viser at ideen ble lagret eller sendt inn, og når, men ikke
  kontaktpersonens navn, e-postadresse eller telefonnummer: de står bare i ideen, så
  slettingen når dem. Vedleggene følger ideen og slettes ikke sammen med
  kontaktopplysningene.

### Når du har en konto (arrangør, programleder, nettverkskoordinator eller jurymedlem)

- E-postadressen din, rollen din og, for koordinatorer, hvilket nettverk du hører til.
  Passordet lagres bare som en hash som ikke kan gjøres om til passordet igjen.
- En innloggingsøkt i en informasjonskapsel (live_session). Den utløper 12 timer etter at du
  sist brukte den, og senest etter 7 dager.
- Det du gjør i tjenesten: nominasjoner med begrunnelse, jurypoeng og kommentarer,
  inhabilitet og andre endringer. Endringsloggen viser hvem som gjorde hva, og når, slik at
  konkurransen kan etterprøves.

### Når du stemmer i finalen

- Vi spør ikke om navn, e-postadresse eller konto. Stemmeseddelen gir mobilen en tilfeldig
  stemmenøkkel i en informasjonskapsel (live_voter) som bare gjelder den ene avstemningen.
  Den sørger for at én mobil gir én stemme, og for at du kan endre stemmen mens avstemningen
  er åpen. Nøkkelen sier ikke hvem du er.
- Krever avstemningen adgangskort, skanner du eller skriver inn koden på kortet. Kortene
  deles ut i salen og knyttes ikke til navn.
- Stemmen lagres med en kvitteringskode. Når avstemningen er avsluttet, publiseres alle
  stemmene som ble talt, med kvitteringskode og valg, men uten stemmenøkkel, slik at hvem
  som helst kan telle opp på nytt og du kan se at stemmen din er med.
- IP-adressen til mobilen telles kort for å oppdage om én adresse henter mange flere
  stemmenøkler enn en sal gjør. Stemmer fra nøkler som ble hentet mens et slikt varsel var
  aktivt, merkes, men adressen lagres ikke sammen med stemmen.

### For alle som besøker nettstedet

- Språket du velger, huskes i en informasjonskapsel (live_lang).
- Serveren logger hver forespørsel med IP-adresse, tidspunkt, adressen til siden og
  svarkoden, for drift og sikkerhet. Innholdet i skjemaer, passord, nøkler og stemmer logges
  aldri.
- For å stanse misbruk telles innlogginger, lagringer av ideskjemaet og bruk av
  invitasjonslenker per IP-adresse i korte tidsvinduer.

Nettstedet bruker ingen analyseverktøy, ingen reklame og ikke innhold eller skript fra andre
nettsteder. Informasjonskapslene er nødvendige for at tjenesten skal virke, og brukes ikke
til noe annet. Derfor ber vi ikke om samtykke til dem.

## Rettslig grunnlag

Vi behandler personopplysningene fordi det er nødvendig for å ivareta berettigede interesser
(personvernforordningen artikkel 6 nr. 1 bokstav f):

- Kontaktopplysninger og ideer: å gjennomføre konkurransen, vurdere ideene og holde kontakt
  med dem som sendte dem inn.
- Kontoer og endringsloggen: å gi de riktige personene tilgang, og å kunne dokumentere
  hvordan nominasjoner, juryvurderinger og resultater ble til.
- Stemmenøkler, adgangskort og kvitteringskoder: at hver deltaker har én stemme, og at
  opptellingen kan kontrolleres.
- IP-adresser i logger og tellere: å holde tjenesten sikker og stabil.

Vi har vurdert at disse interessene veier tyngre enn ulempen for deg, fordi opplysningene er
få, de er det du kan vente deg når du deltar, og de slettes etter fristene nedenfor. Du kan
protestere mot behandlingen; se rettighetene dine nedenfor.

## Hvor lenge vi lagrer opplysningene

- Kontaktopplysninger (navn, e-post og telefon) på ideer som ikke ble finalister: slettes
  automatisk 6 måneder etter finalen. Slettingen føres i endringsloggen, men uten
  opplysningene som ble slettet.
- Kontaktopplysninger til finalistene: slettes senest 24 måneder etter finalen. Vi trenger
  dem for å følge opp vinnerprosjektet.
- Ideene uten kontaktopplysninger, nominasjonene og juryens vurderinger: tas vare på som
  dokumentasjon av konkurransen.
- Kontoer: slettes når personen ikke lenger har en rolle i konkurransen. Arrangørene går
  gjennom kontoene etter hver finale.
- Innloggingsøkter: utløper 12 timer etter siste bruk, senest etter 7 dager.
  Invitasjonslenker: 7 dager.
- Stemmenøkkelen i informasjonskapselen: 30 dager. Språkvalget: 1 år.
- Stemmene: tas vare på sammen med avstemningen som bevis for opptellingen, med
  kvitteringskode og valg, men uten personopplysninger.
- Tellere per IP-adresse mot misbruk: noen minutter, høyst 15 minutter.
- Serverlogger: slettes etter 30 dager.
- Sikkerhetskopier: slettes etter 30 dager, så opplysninger som er slettet i tjenesten, er
  borte fra alle kopier senest da.

## Hvem som behandler opplysningene for oss

- Driftsleverandøren som kjører tjenesten og lagrer opplysningene: [FYLL INN: navn på
  driftsleverandøren og landet der opplysningene lagres]
- E-postleverandøren som sender e-post fra tjenesten: [FYLL INN: navn på e-postleverandøren]

De behandler opplysningene bare på vegne av KS og etter en databehandleravtale. Vi gir ikke
opplysningene videre til andre. Ideer som blir finalister, vises med navn og eier på
stemmeseddelen og storskjermen.

## Rettighetene dine

Du har rett til å

- få vite hvilke opplysninger vi har om deg, og få en kopi av dem (innsyn)
- få rettet opplysninger som er feil (retting)
- få slettet opplysninger som vi ikke lenger trenger eller ikke har grunnlag for (sletting)
- be om at vi begrenser bruken av opplysningene mens en sak om dem blir avklart
  (begrensning)
- protestere mot behandlingen, siden den bygger på berettigede interesser (protest)
- få opplysningene du har gitt oss, i et maskinlesbart format (dataportabilitet)

Skriv til kontaktadressen øverst. Vi svarer så snart vi kan, og senest innen én måned. Fram
til innsendingsfristen kan du selv rette opplysningene på ideen gjennom den private lenken.
Stemmer kan vi ikke knytte til deg, og derfor kan vi heller ikke finne dem fram.

## Klage

Mener du at vi behandler personopplysninger i strid med regelverket, kan du klage til
Datatilsynet: https://www.datatilsynet.no/. Ta gjerne kontakt med oss først, så vi kan rette
opp feilen.
"""

_PRIVACY_NN = """\
Denne erklæringa gjeld nettstaden for idékonkurransen til KS: innsending av idear, sidene
for nettverkskoordinatorar, jury og arrangørar, og avstemminga i finalen (stemmesetelen på
mobilen, storskjermen i salen og konsollen til programleiaren). Her står kva
personopplysningar vi behandlar, kvifor, kva rettsleg grunnlag vi byggjer på, kor lenge vi
tek vare på dei, og kva rettar du har.

## Behandlingsansvarleg

KS (Kommunesektorens organisasjon) er behandlingsansvarleg for personopplysningane i
tenesta.

- Kontakt om personvern: [FYLL INN: e-postadresse for spørsmål om personvern i
  idékonkurransen]
- Personvernombodet i KS: [FYLL INN: namn og e-postadresse til personvernombodet]

## Kva vi samlar inn, og kvifor

### Når du sender inn ein idé

- Namn, e-postadresse og telefonnummer (valfritt) til kontaktpersonen, og kva kommune,
  fylkeskommune eller verksemd ideen kjem frå, med eventuelle samarbeidspartnarar. Vi bruker
  dette til å sende ideen til rett nettverk, til å kontakte deg om ideen og til å fortelje
  deg kva som skjer med han, også på e-post.
- Sjølve ideen med eventuelle vedlegg. Skriv ikkje personopplysningar om andre i ideteksten
  eller vedlegga; dei trengst ikkje for å vurdere ideen.
- Når du lagrar eller sender inn, får du ei privat lenkje til ideen. Alle som har lenkja,
  kan sjå ideen og endre han fram til fristen, så del ho berre med dei som skal ha tilgang.
- Endringsloggen viser at ideen vart lagra eller send inn, og når, men ikkje namnet,
  e-postadressa eller telefonnummeret til kontaktpersonen: dei står berre i ideen, så
  slettinga når dei. Vedlegga følgjer ideen og blir ikkje sletta saman med
  kontaktopplysningane.

### Når du har ein konto (arrangør, programleiar, nettverkskoordinator eller jurymedlem)

- E-postadressa di, rolla di og, for koordinatorar, kva nettverk du høyrer til. Passordet
  blir berre lagra som ein hash som ikkje kan gjerast om til passordet att.
- Ei innloggingsøkt i ein informasjonskapsel (live_session). Ho går ut 12 timar etter at du
  sist brukte henne, og seinast etter 7 dagar.
- Det du gjer i tenesta: nominasjonar med grunngjeving, jurypoeng og kommentarar,
  inhabilitet og andre endringar. Endringsloggen viser kven som gjorde kva, og når, slik at
  konkurransen kan etterprøvast.

### Når du røystar i finalen

- Vi spør ikkje om namn, e-postadresse eller konto. Stemmesetelen gir mobilen ein tilfeldig
  stemmenøkkel i ein informasjonskapsel (live_voter) som berre gjeld den eine avstemminga.
  Nøkkelen syter for at éin mobil gir éi røyst, og for at du kan endre røysta medan
  avstemminga er open. Han seier ikkje kven du er.
- Krev avstemminga tilgangskort, skannar du eller skriv inn koden på kortet. Korta blir
  delte ut i salen og blir ikkje knytte til namn.
- Røysta blir lagra med ein kvitteringskode. Når avstemminga er avslutta, blir alle røystene
  som vart talde, publiserte med kvitteringskode og val, men utan stemmenøkkel, slik at kven
  som helst kan telje opp på nytt og du kan sjå at røysta di er med.
- IP-adressa til mobilen blir talt kort for å oppdage om éi adresse hentar mange fleire
  stemmenøklar enn ein sal gjer. Røyster frå nøklar som vart henta medan eit slikt varsel
  var aktivt, blir merkte, men adressa blir ikkje lagra saman med røysta.

### For alle som besøkjer nettstaden

- Språket du vel, blir hugsa i ein informasjonskapsel (live_lang).
- Serveren loggar kvar førespurnad med IP-adresse, tidspunkt, adressa til sida og svarkoden,
  for drift og tryggleik. Innhaldet i skjema, passord, nøklar og røyster blir aldri logga.
- For å stanse misbruk blir innloggingar, lagringar av ideskjemaet og bruk av
  invitasjonslenkjer talde per IP-adresse i korte tidsvindauge.

Nettstaden bruker ingen analyseverktøy, ingen reklame og ikkje innhald eller skript frå
andre nettstader. Informasjonskapslane er naudsynte for at tenesta skal verke, og blir ikkje
brukte til noko anna. Difor ber vi ikkje om samtykke til dei.

## Rettsleg grunnlag

Vi behandlar personopplysningane fordi det er naudsynt for å ta vare på berettiga interesser
(personvernforordninga artikkel 6 nr. 1 bokstav f):

- Kontaktopplysningar og idear: å gjennomføre konkurransen, vurdere ideane og halde kontakt
  med dei som sende dei inn.
- Kontoar og endringsloggen: å gi dei rette personane tilgang, og å kunne dokumentere
  korleis nominasjonar, juryvurderingar og resultat vart til.
- Stemmenøklar, tilgangskort og kvitteringskodar: at kvar deltakar har éi røyst, og at
  opptellinga kan kontrollerast.
- IP-adresser i loggar og teljarar: å halde tenesta trygg og stabil.

Vi har vurdert at desse interessene veg tyngre enn ulempa for deg, fordi opplysningane er
få, dei er det du kan vente deg når du deltek, og dei blir sletta etter fristane nedanfor.
Du kan protestere mot behandlinga; sjå rettane dine nedanfor.

## Kor lenge vi lagrar opplysningane

- Kontaktopplysningar (namn, e-post og telefon) på idear som ikkje vart finalistar: blir
  sletta automatisk 6 månader etter finalen. Slettinga blir ført i endringsloggen, men utan
  opplysningane som vart sletta.
- Kontaktopplysningar til finalistane: blir sletta seinast 24 månader etter finalen. Vi
  treng dei for å følgje opp vinnarprosjektet.
- Ideane utan kontaktopplysningar, nominasjonane og vurderingane til juryen: blir tekne vare
  på som dokumentasjon av konkurransen.
- Kontoar: blir sletta når personen ikkje lenger har ei rolle i konkurransen. Arrangørane
  går gjennom kontoane etter kvar finale.
- Innloggingsøkter: går ut 12 timar etter siste bruk, seinast etter 7 dagar.
  Invitasjonslenkjer: 7 dagar.
- Stemmenøkkelen i informasjonskapselen: 30 dagar. Språkvalet: 1 år.
- Røystene: blir tekne vare på saman med avstemminga som prov for opptellinga, med
  kvitteringskode og val, men utan personopplysningar.
- Teljarar per IP-adresse mot misbruk: nokre minutt, høgst 15 minutt.
- Serverloggar: blir sletta etter 30 dagar.
- Tryggleikskopiar: blir sletta etter 30 dagar, så opplysningar som er sletta i tenesta, er
  borte frå alle kopiar seinast då.

## Kven som behandlar opplysningane for oss

- Driftsleverandøren som køyrer tenesta og lagrar opplysningane: [FYLL INN: namn på
  driftsleverandøren og landet der opplysningane blir lagra]
- E-postleverandøren som sender e-post frå tenesta: [FYLL INN: namn på e-postleverandøren]

Dei behandlar opplysningane berre på vegner av KS og etter ein databehandlaravtale. Vi gir
ikkje opplysningane vidare til andre. Idear som blir finalistar, blir viste med namn og
eigar på stemmesetelen og storskjermen.

## Rettane dine

Du har rett til å

- få vite kva opplysningar vi har om deg, og få ein kopi av dei (innsyn)
- få retta opplysningar som er feil (retting)
- få sletta opplysningar som vi ikkje lenger treng eller ikkje har grunnlag for (sletting)
- be om at vi avgrensar bruken av opplysningane medan ei sak om dei blir avklart
  (avgrensing)
- protestere mot behandlinga, sidan ho byggjer på berettiga interesser (protest)
- få opplysningane du har gitt oss, i eit maskinlesbart format (dataportabilitet)

Skriv til kontaktadressa øvst. Vi svarer så snart vi kan, og seinast innan éin månad. Fram
til innsendingsfristen kan du sjølv rette opplysningane på ideen gjennom den private lenkja.
Røyster kan vi ikkje knyte til deg, og difor kan vi heller ikkje finne dei fram.

## Klage

Meiner du at vi behandlar personopplysningar i strid med regelverket, kan du klage til
Datatilsynet: https://www.datatilsynet.no/. Ta gjerne kontakt med oss først, så vi kan rette
opp feilen.
"""

_PRIVACY_EN = """\
This statement covers the website of the KS idea competition: sending in ideas, the pages
for network coordinators, the jury and the organisers, and the vote at the finale (the
ballot on your phone, the big screen in the hall and the host's console). It says which
personal data we process, why, on which legal basis, how long we keep them, and what your
rights are.

## Controller

KS (the Norwegian Association of Local and Regional Authorities) is the controller of the
personal data in this service.

- Privacy contact: [FILL IN: e-mail address for privacy questions about the idea
  competition]
- KS's data protection officer: [FILL IN: name and e-mail address of the data protection
  officer]

## What we collect, and why

### When you send in an idea

- The contact person's name, e-mail address and phone number (optional), and the
  municipality, county or organisation the idea comes from, with any partners. We use these
  to send the idea to the right network, to contact you about the idea and to tell you what
  happens to it, also by e-mail.
- The idea itself with any attachments. Do not write personal data about others in the idea
  or its attachments; they are not needed to assess it.
- When you save or submit, you get a private link to the idea. Anyone who has the link can
  see the idea and change it until the deadline, so share it only with those who should have
  access.
- The audit log shows that the idea was saved or submitted, and when, but not the contact
  person's name, e-mail address or phone number: they are kept in the idea only, so erasing
  them erases them everywhere. Attachments stay with the idea and are not erased with the
  contact details.

### When you have an account (organiser, host, network coordinator or jury member)

- Your e-mail address, your role and, for coordinators, the network you belong to. Your
  password is stored only as a hash that cannot be turned back into the password.
- A login session in a cookie (live_session). It ends 12 hours after you last used it, and
  after 7 days at the latest.
- What you do in the service: nominations with their rationale, jury scores and comments,
  conflicts of interest and other changes. The audit log shows who did what, and when, so
  that the contest can be checked afterwards.

### When you vote at the finale

- We do not ask for your name, e-mail address or an account. The ballot gives your phone a
  random voter token in a cookie (live_voter) that is valid for that one poll only. It makes
  one phone one vote, and lets you change your vote while the poll is open. The token does
  not say who you are.
- If the poll requires badges, you scan or type the code on your badge. Badges are handed
  out in the hall and are not linked to names.
- Your vote is stored with a receipt code. When the poll has closed, every counted vote is
  published with its receipt code and choices, but without the voter token, so that anyone
  can recount and you can see that your vote is included.
- Your phone's IP address is counted briefly to notice when one address takes far more voter
  tokens than a hall does. Votes from tokens taken while such an alert was raised are
  marked, but the address is not stored with the vote.

### For everyone who visits the website

- The language you choose is remembered in a cookie (live_lang).
- The server logs each request with the IP address, the time, the page's address and the
  status code, for operations and security. Form contents, passwords, tokens and votes are
  never logged.
- To stop abuse, logins, saves of the idea form and uses of invitation links are counted per
  IP address in short time windows.

The website uses no analytics, no advertising and no content or scripts from other websites.
The cookies are needed for the service to work and are used for nothing else, so we do not
ask for consent to them.

## Legal basis

We process the personal data because it is necessary for legitimate interests (General Data
Protection Regulation, Article 6(1)(f)):

- Contact details and ideas: to run the contest, assess the ideas and stay in touch with
  those who sent them in.
- Accounts and the audit log: to give the right people access, and to document how
  nominations, jury assessments and results came about.
- Voter tokens, badges and receipt codes: that each participant has one vote, and that the
  count can be checked.
- IP addresses in logs and counters: to keep the service secure and stable.

We have judged that these interests outweigh the drawbacks for you, because the data are
few, they are what you can expect when you take part, and they are erased after the periods
below. You may object to the processing; see your rights below.

## How long we keep the data

- Contact details (name, e-mail and phone) of ideas that did not become finalists: erased
  automatically 6 months after the finale. The erasure is recorded in the audit log, but
  without the erased data.
- Contact details of the finalists: erased 24 months after the finale at the latest. We need
  them to follow up the winning project.
- The ideas without contact details, the nominations and the jury's assessments: kept as the
  record of the contest.
- Accounts: deleted when the person no longer has a role in the contest. The organisers
  review the accounts after every finale.
- Login sessions: end 12 hours after last use, after 7 days at the latest. Invitation links:
  7 days.
- The voter token in its cookie: 30 days. The language choice: 1 year.
- The votes: kept with the poll as evidence of the count, with receipt code and choices, but
  without personal data.
- Counters per IP address against abuse: a few minutes, 15 minutes at most.
- Server logs: erased after 30 days.
- Backups: erased after 30 days, so data erased in the service are gone from every copy by
  then.

## Who processes the data for us

- The hosting provider that runs the service and stores the data: [FILL IN: name of the
  hosting provider and the country where the data are stored]
- The e-mail provider that sends e-mail from the service: [FILL IN: name of the e-mail
  provider]

They process the data only on behalf of KS and under a data processing agreement. We do not
pass the data on to anyone else. Ideas that become finalists are shown with their name and
owner on the ballot and the big screen.

## Your rights

You have the right to

- know which data we hold about you, and get a copy of them (access)
- have wrong data corrected (rectification)
- have data erased that we no longer need or have no basis for (erasure)
- ask us to restrict the use of the data while a question about them is settled
  (restriction)
- object to the processing, since it rests on legitimate interests (objection)
- get the data you gave us in a machine-readable format (data portability)

Write to the contact address at the top. We answer as soon as we can, and within one month
at the latest. Until the submission deadline you can correct the data on your idea yourself
through its private link. Votes cannot be linked to you, so we cannot find them either.

## Complaints

If you believe we process personal data against the rules, you can complain to the Norwegian
Data Protection Authority (Datatilsynet): https://www.datatilsynet.no/. Please contact us
first, so that we can put it right.
"""

_ACCESSIBILITY_NB = """\
Denne erklæringen gjelder nettstedet for KS' idékonkurranse, der kommuner og fylkeskommuner
sender inn ideer, nettverkene og juryen vurderer dem, og publikum stemmer i finalen med
mobilen. Den følger malen for tilgjengelighetserklæringer fra Tilsynet for universell
utforming av ikt.

## Hvem som har ansvaret

KS (Kommunesektorens organisasjon) har ansvaret for nettstedet og for at det er universelt
utformet. Kontakt: [FYLL INN: e-postadresse for tilbakemeldinger om tilgjengelighet]

## Samsvar med kravene

Nettstedet er delvis i samsvar med WCAG 2.1 nivå AA, som forskrift om universell utforming
av IKT-løsninger krever. Målet er at alle sider oppfyller kravene. Dette er avvikene vi
kjenner til:

- Storskjermen i finalen, resultatvisningen som vises med projektor i salen, er laget for å
  leses på avstand i fullskjerm og ikke for egen skjerm. Teksten der får ikke alltid plass
  ved kraftig forstørrelse, og ikke alle endringer leses opp av skjermleser (WCAG 1.4.4,
  1.4.10 og 4.1.3). Alt du trenger for å stemme og se resultatet, finnes også på
  stemmeseddelen på mobilen.
- Teksten i ideene og finalistenes navn og beskrivelser skrives av dem som sender inn, og
  blir ikke kontrollert for tilgjengelighet. Vedlegg (PDF, Word og andre) kan mangle
  overskrifter, tekstalternativer og en fornuftig leserekkefølge (WCAG 1.1.1 og 1.3.1).
- Tekst på et annet språk enn siden, for eksempel en idé på bokmål som vises på en engelsk
  side, er ikke merket med språket sitt, så skjermlesere kan uttale den feil (WCAG 3.1.2).
- Arket med adgangskort er laget for utskrift på papir og er ikke tilpasset skjerm.

Avstemningen i finalen har en tidsfrist som programlederen setter, fordi den er en del av et
arrangement som skjer direkte. Trenger du mer tid, si fra til programlederen eller
arrangørene i salen.

## Slik har vi testet

- Automatiske tester med axe-core sjekker alle typer sider i en ekte nettleser (Chromium),
  på mobil og PC, hver gang programvaren endres. De sjekker kravene i WCAG 2.0 og 2.1 på
  nivå A og AA, og at sidene ikke må rulles sidelengs på en smal skjerm.
- Sidene er prøvd med bare tastatur og med skjermleser.
- Fargene er sjekket for kontrast. Når arrangørene velger farger og logo for finalen,
  sjekker tjenesten kontrasten mot WCAG AA før temaet lagres.

[FYLL INN: når nettstedet sist ble testet manuelt, av hvem, og med hvilke skjermlesere og
nettlesere]

## Tilbakemelding

Finner du noe som ikke virker for deg, eller trenger du innholdet i en annen form, vil vi
gjerne høre fra deg: [FYLL INN: e-postadresse for tilbakemeldinger om tilgjengelighet].
Skriv hvilken side det gjelder, og hva som skjedde. Vi svarer innen [FYLL INN: antall]
virkedager.

## Klage

Får du ikke svar, eller er du ikke fornøyd med svaret, kan du melde fra til Tilsynet for
universell utforming av ikt. Tilsynet fører tilsyn med at nettsteder er universelt utformet:
https://www.uutilsynet.no/
"""

_ACCESSIBILITY_NN = """\
Denne erklæringa gjeld nettstaden for idékonkurransen til KS, der kommunar og fylkeskommunar
sender inn idear, nettverka og juryen vurderer dei, og publikum røystar i finalen med
mobilen. Ho følgjer malen for tilgjengelegheitserklæringar frå Tilsynet for universell
utforming av ikt.

## Kven som har ansvaret

KS (Kommunesektorens organisasjon) har ansvaret for nettstaden og for at han er universelt
utforma. Kontakt: [FYLL INN: e-postadresse for tilbakemeldingar om tilgjengelegheit]

## Samsvar med krava

Nettstaden er delvis i samsvar med WCAG 2.1 nivå AA, som forskrift om universell utforming
av IKT-løysingar krev. Målet er at alle sider oppfyller krava. Dette er avvika vi kjenner
til:

- Storskjermen i finalen, resultatvisinga som blir vist med projektor i salen, er laga for å
  lesast på avstand i fullskjerm og ikkje for eigen skjerm. Teksten der får ikkje alltid
  plass ved kraftig forstørring, og ikkje alle endringar blir lesne opp av skjermlesar (WCAG
  1.4.4, 1.4.10 og 4.1.3). Alt du treng for å røyste og sjå resultatet, finst også på
  stemmesetelen på mobilen.
- Teksten i ideane og namna og skildringane til finalistane blir skrivne av dei som sender
  inn, og blir ikkje kontrollerte for tilgjengelegheit. Vedlegg (PDF, Word og andre) kan
  mangle overskrifter, tekstalternativ og ei fornuftig leserekkjefølgje (WCAG 1.1.1 og
  1.3.1).
- Tekst på eit anna språk enn sida, til dømes ein idé på bokmål som blir vist på ei engelsk
  side, er ikkje merkt med språket sitt, så skjermlesarar kan uttale han feil (WCAG 3.1.2).
- Arket med tilgangskort er laga for utskrift på papir og er ikkje tilpassa skjerm.

Avstemminga i finalen har ein tidsfrist som programleiaren set, fordi ho er ein del av eit
arrangement som skjer direkte. Treng du meir tid, sei frå til programleiaren eller
arrangørane i salen.

## Slik har vi testa

- Automatiske testar med axe-core sjekkar alle typar sider i ein ekte nettlesar (Chromium),
  på mobil og PC, kvar gong programvara blir endra. Dei sjekkar krava i WCAG 2.0 og 2.1 på
  nivå A og AA, og at sidene ikkje må rullast sidelengs på ein smal skjerm.
- Sidene er prøvde med berre tastatur og med skjermlesar.
- Fargane er sjekka for kontrast. Når arrangørane vel fargar og logo for finalen, sjekkar
  tenesta kontrasten mot WCAG AA før temaet blir lagra.

[FYLL INN: når nettstaden sist vart testa manuelt, av kven, og med kva skjermlesarar og
nettlesarar]

## Tilbakemelding

Finn du noko som ikkje verkar for deg, eller treng du innhaldet i ei anna form, vil vi
gjerne høyre frå deg: [FYLL INN: e-postadresse for tilbakemeldingar om tilgjengelegheit].
Skriv kva side det gjeld, og kva som skjedde. Vi svarer innan [FYLL INN: tal] arbeidsdagar.

## Klage

Får du ikkje svar, eller er du ikkje nøgd med svaret, kan du melde frå til Tilsynet for
universell utforming av ikt. Tilsynet fører tilsyn med at nettstader er universelt utforma:
https://www.uutilsynet.no/
"""

_ACCESSIBILITY_EN = """\
This statement covers the website of the KS idea competition, where municipalities and
counties send in ideas, the networks and the jury assess them, and the audience votes at the
finale on their phones. It follows the model for accessibility statements of the Norwegian
Authority for Universal Design of ICT.

## Who is responsible

KS (the Norwegian Association of Local and Regional Authorities) is responsible for the
website and for its universal design. Contact: [FILL IN: e-mail address for feedback on
accessibility]

## Compliance

The website is partially compliant with WCAG 2.1 level AA, which the Norwegian regulations
on universal design of ICT require. Our aim is that every page meets the requirements. These
are the deviations we know of:

- The big screen at the finale, the results shown with a projector in the hall, is made to
  be read from a distance in full screen and not on your own screen. Its text does not
  always fit when strongly enlarged, and not every change is announced by screen readers
  (WCAG 1.4.4, 1.4.10 and 4.1.3). Everything you need to vote and to see the result is also
  on the ballot on your phone.
- The text of the ideas and the finalists' names and descriptions are written by those who
  send them in and are not checked for accessibility. Attachments (PDF, Word and others) may
  lack headings, text alternatives and a sensible reading order (WCAG 1.1.1 and 1.3.1).
- Text in another language than the page, such as an idea in Norwegian shown on an English
  page, is not marked with its language, so screen readers may pronounce it wrongly (WCAG
  3.1.2).
- The sheet of badges is made for printing on paper and is not adapted for screens.

The vote at the finale has a time limit that the host sets, because it is part of a live
event. If you need more time, tell the host or the organisers in the hall.

## How we tested

- Automated tests with axe-core check every kind of page in a real browser (Chromium), on a
  phone and a desktop, every time the software changes. They check the WCAG 2.0 and 2.1
  requirements at levels A and AA, and that pages do not scroll sideways on a narrow screen.
- The pages have been tried with the keyboard alone and with a screen reader.
- The colours have been checked for contrast. When the organisers choose colours and a logo
  for the finale, the service checks the contrast against WCAG AA before the theme is saved.

[FILL IN: when the website was last tested by hand, by whom, and with which screen readers
and browsers]

## Feedback

If something does not work for you, or you need the content in another form, we would like
to hear from you: [FILL IN: e-mail address for feedback on accessibility]. Say which page it
is about and what happened. We answer within [FILL IN: number] working days.

## Complaints

If you get no answer, or are not satisfied with the answer, you can report it to the
Norwegian Authority for Universal Design of ICT (Tilsynet for universell utforming av ikt),
which checks that websites are universally designed: https://www.uutilsynet.no/
"""

DEFAULT_TEXTS = {
    "privacy": {"nb": _PRIVACY_NB, "nn": _PRIVACY_NN, "en": _PRIVACY_EN},
    "accessibility": {"nb": _ACCESSIBILITY_NB, "nn": _ACCESSIBILITY_NN, "en": _ACCESSIBILITY_EN},
}
